// data_dir.h - where the shipped data (rule lists, test signatures) is found at run time: next to
// the installed binary (relocatable with the install prefix), or the source tree for a build tree.
#pragma once

#include <string>

namespace avsink {

// The absolute path of the shipped data directory (holding rules/ and signatures/):
//  - code running from the build tree (the object holding this function lies under the build
//    directory): the source tree, so a plain build works with no install;
//  - otherwise: DATADIR/avsink relative to the installed library or program holding this code
//    (e.g. /usr/lib/libavsink.so.1 -> /usr/share/avsink), never the source tree.
// The result is computed once and cached; thread-safe. Never fails: when the location of the code
// cannot be read, the data directory of the configured install prefix is returned (a missing
// directory is then reported by whoever opens it).
const std::string &shipped_data_dir();

// The pure decision behind shipped_data_dir(), for tests: `object` is the absolute path of the
// library or executable holding the code and `in_main_program` whether it is the executable.
std::string shipped_data_dir_for(const std::string &object, bool in_main_program);

}  // namespace avsink
