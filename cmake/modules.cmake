# Adds a module folder once it has a CMakeLists.txt, so modules can land one at a time.
macro(sluice_add_module dir)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/CMakeLists.txt)
    add_subdirectory(${dir})
  endif()
endmacro()
