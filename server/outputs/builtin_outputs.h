// The list of outputs compiled into Sluice. server/app calls RegisterBuiltinOutputs() on
// its registry at start-up; tests call it to run the conformance suite over every output.
//
// Adding an output: a folder server/outputs/<type>/ with the output and its factory, one
// line in builtin_outputs.cc, and tests under tests/outputs/<type>/. Registration is
// explicit, never by static initialisers, so the list is here to read.
#ifndef SLUICE_SERVER_OUTPUTS_BUILTIN_OUTPUTS_H_
#define SLUICE_SERVER_OUTPUTS_BUILTIN_OUTPUTS_H_

#include "server/outputs/output_registry.h"

namespace sluice::outputs {

void RegisterBuiltinOutputs(OutputRegistry& registry);

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_BUILTIN_OUTPUTS_H_
