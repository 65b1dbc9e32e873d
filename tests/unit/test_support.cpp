// test_support.cpp - implementation of the unit-test helpers (paths, file reading, temp dirs).
// Tests only; failures are reported through GoogleTest, never by exiting.
#include "test_support.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace avsink::test {

std::string data_path(const std::string &relative) {
  return std::string(AVSINK_TEST_DATA_DIR) + "/" + relative;
}

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string make_temp_dir(const std::string &prefix) {
  const char *tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed for " << tmpl;
    return {};
  }
  return tmpl;
}

std::string eicar() {
  // Split so that no scanner flags this source file.
  return std::string("X5O!P%@AP[4\\PZX54(P^)7CC)7}$") + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
}

}  // namespace avsink::test
