// core_data_dir_test.cpp - where the shipped data is read from: the source tree only for code in
// the build tree, otherwise the install prefix of the binary holding the code; and the key table's
// docs.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/config.h"
#include "core/data_dir.h"

namespace {

using avsink::shipped_data_dir_for;

TEST(DataDir, BuildTreeReadsTheSourceTree) {
  EXPECT_EQ(shipped_data_dir_for(AVSINK_BUILD_DIR "/avsink", true), AVSINK_SOURCE_DIR);
  EXPECT_EQ(shipped_data_dir_for(AVSINK_BUILD_DIR "/tests/avsink_core_tests", true),
            AVSINK_SOURCE_DIR);
  EXPECT_EQ(shipped_data_dir_for(AVSINK_BUILD_DIR "/libavsink.so.1", false), AVSINK_SOURCE_DIR);
  // This test runs from the build tree.
  EXPECT_EQ(avsink::shipped_data_dir(), AVSINK_SOURCE_DIR);
  EXPECT_EQ(avsink::Config::shipped_rules_dir(), AVSINK_SOURCE_DIR "/rules");
}

TEST(DataDir, InstalledCodeReadsItsPrefixNeverTheSourceTree) {
  // Relative to the object, whatever prefix it was installed under (cmake --install --prefix X).
  EXPECT_EQ(shipped_data_dir_for("/opt/x/bin/avsink", true), "/opt/x/share/avsink");
  EXPECT_EQ(shipped_data_dir_for("/usr/bin/avsink", true), "/usr/share/avsink");
  EXPECT_EQ(shipped_data_dir_for("/usr/lib/libavsink.so.1", false), "/usr/share/avsink");
  EXPECT_EQ(shipped_data_dir_for("/tmp/p/lib/libavsink.so.1.0", false), "/tmp/p/share/avsink");
  // A sibling directory whose name starts like the build directory is not the build tree.
  EXPECT_EQ(shipped_data_dir_for(AVSINK_BUILD_DIR "-other/bin/avsink", true),
            std::string(AVSINK_BUILD_DIR "-other/share/avsink"));
}

TEST(ConfigKeyDocs, EveryParsedKeyIsDescribedWithItsDefault) {
  const auto docs = avsink::config_key_docs();
  ASSERT_GT(docs.size(), 40u);
  std::set<std::string> seen;
  for (const auto &k : docs) {
    EXPECT_FALSE(k.description.empty()) << k.section << "." << k.name;
    EXPECT_FALSE(k.kind.empty()) << k.section << "." << k.name;
    EXPECT_TRUE(seen.insert(k.section + "." + k.name).second) << "twice: " << k.name;
    // The documented default parses back to the same value: the key and its default are real.
    auto c = avsink::parse_config("[" + k.section + "]\n" + k.name + " = " + k.default_value + "\n",
                                  "doc.toml");
    EXPECT_TRUE(c.ok()) << k.section << "." << k.name << " = " << k.default_value << ": "
                        << (c.ok() ? "" : c.error().describe());
  }
  EXPECT_EQ(seen.count("limits.max_parts"), 1u);
  EXPECT_EQ(seen.count("quarantine.dir"), 1u);
  EXPECT_EQ(seen.count("quarantine.quarantine_dir"), 0u);
  const auto by_name = [&](const std::string &n) {
    for (const auto &k : docs)
      if (k.section + "." + k.name == n) return k;
    return avsink::ConfigKeyDoc{};
  };
  EXPECT_EQ(by_name("limits.max_parts").default_value, "1024");
  EXPECT_EQ(by_name("limits.max_parts").range, "1..1000000");
  EXPECT_EQ(by_name("scan.header_name").default_value, "\"X-Virus-Scanned\"");
  EXPECT_EQ(by_name("clamav.enabled").default_value, "true");
}

}  // namespace
