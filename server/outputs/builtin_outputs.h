// The list of outputs compiled into Sluice. server/app calls RegisterBuiltinOutputs() on
// its registry at start-up; tests call it to run the conformance suite over every output.
//
// Adding an output touches three places: its folder server/outputs/<type>/ (the output,
// its factory with its key table and example block, and a CMakeLists.txt calling
// sluice_output()), its line here in builtin_outputs.cc, and its test folder
// tests/outputs/<type>/ (a CMakeLists.txt calling sluice_output_test()). The conformance
// suite picks the type up by itself; `config_reference docs/CONFIG.md` then adds its key
// table to the documentation. Registration is explicit, never by static initialisers, so
// the list is here to read.
#ifndef SLUICE_SERVER_OUTPUTS_BUILTIN_OUTPUTS_H_
#define SLUICE_SERVER_OUTPUTS_BUILTIN_OUTPUTS_H_

#include "server/outputs/output_registry.h"

namespace sluice::outputs {

void RegisterBuiltinOutputs(OutputRegistry& registry);

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_BUILTIN_OUTPUTS_H_
