// bench_micro.cpp - Google Benchmark micro-benchmarks: MIME parse, filename decoding, rule match.
// Invariant: inputs are built in memory, deterministically; every benchmark checks its result once.
//
// Built twice: bench_micro (committed stages: MIME parse, RFC 2231/2047 filename decoding) and
// bench_micro_stages (AVSINK_BENCH_STAGES: also attachment-name readings and rule matching, from
// stages that are built but not yet linked into the library).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/limits.h"
#include "mime/decode.h"
#include "mime/header_words.h"
#include "mime/parser.h"

#if AVSINK_BENCH_STAGES
#include "attachments/filename.h"
#include "core/envelope.h"
#include "rules/rule_engine.h"
#endif

namespace {

std::string words(size_t n, unsigned seed) {
  static const char *const kWords[] = {"invoice", "meeting",  "report",  "budget", "the",
                                       "please",  "attached", "regards", "review", "figures"};
  std::string out;
  unsigned s = seed;
  size_t col = 0;
  while (out.size() < n) {
    s = s * 1103515245u + 12345u;
    const char *w = kWords[(s >> 16) % 10];
    out += w;
    col += 8;
    if (col > 64) {
      out += "\r\n";
      col = 0;
    } else {
      out += ' ';
    }
  }
  return out;
}

std::string base64(size_t n, unsigned seed) {
  static const char *const kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned s = seed;
  for (size_t i = 0; i < n; ++i) {
    s = s * 1103515245u + 12345u;
    out += kAlphabet[(s >> 16) & 63];
    if (i % 76 == 75) out += "\r\n";
  }
  return out + "\r\n";
}

const char *kHeaders =
    "Received: from mx1.example.org (mx1.example.org [192.0.2.1])\r\n\tby gw.example.net with "
    "ESMTPS id ABC; Mon, 1 Jan 2024 10:00:00 +0000\r\n"
    "From: Sender <sender@example.org>\r\nTo: Recipient <rcpt@example.net>\r\n"
    "Subject: =?utf-8?q?Rechnung_Nr=2E_4711_=C3=BCberf=C3=A4llig?=\r\n"
    "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <micro@example.org>\r\n"
    "MIME-Version: 1.0\r\n";

// text only (~4 KB)
std::string message_text() {
  return std::string(kHeaders) + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + words(4000, 1);
}

// html+text alternative and one base64 attachment of `attach` encoded bytes
std::string message_mixed(size_t attach) {
  return std::string(kHeaders) +
         "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\n"
         "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n\r\n" +
         words(2000, 2) +
         "\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\n"
         "Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>" +
         words(3000, 3) +
         "</p>\r\n--alt--\r\n--outer\r\n"
         "Content-Type: application/pdf; name=\"=?utf-8?b?UmVjaG51bmcgw7xiZXIucGRm?=\"\r\n"
         "Content-Disposition: attachment; filename*=utf-8''Rechnung%20%C3%BCber.pdf\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\n" +
         base64(attach, 4) + "--outer--\r\n";
}

void parse(benchmark::State &state, const std::string &msg) {
  const avsink::Limits limits;
  size_t parts = avsink::mime::parse_message(msg, limits).parts.size();
  if (parts == 0) state.SkipWithError("no parts");
  for (auto _ : state) {
    auto tree = avsink::mime::parse_message(msg, limits);
    benchmark::DoNotOptimize(tree.parts.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * msg.size()));
  state.counters["parts"] = static_cast<double>(parts);
}

void BM_MimeParse_Text4K(benchmark::State &state) {
  parse(state, message_text());
}
void BM_MimeParse_Mixed64K(benchmark::State &state) {
  parse(state, message_mixed(64 * 1024));
}
void BM_MimeParse_Mixed1M(benchmark::State &state) {
  parse(state, message_mixed(1024 * 1024));
}
BENCHMARK(BM_MimeParse_Text4K);
BENCHMARK(BM_MimeParse_Mixed64K);
BENCHMARK(BM_MimeParse_Mixed1M);

// The base64 decoder and the dialect scan that runs before it, on 1 MiB of 76-column base64.
void BM_Base64_Decode(benchmark::State &state) {
  const std::string in = base64(1 << 20, 7);
  std::string out;
  for (auto _ : state) {
    out.clear();
    avsink::mime::decode_base64(in, UINT64_MAX, &out);
    benchmark::DoNotOptimize(out.data());
  }
  if (out.size() != (1 << 20) / 4 * 3) state.SkipWithError("wrong decoded size");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * in.size()));
}
void BM_Base64_Dialects(benchmark::State &state) {
  const std::string in = base64(1 << 20, 7);
  for (auto _ : state) {
    auto d = avsink::mime::decode_dialects(avsink::mime::TransferEncoding::kBase64, in);
    if (!d.empty()) state.SkipWithError("a plain body has no other dialect");
    benchmark::DoNotOptimize(d.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * in.size()));
}
BENCHMARK(BM_Base64_Decode);
BENCHMARK(BM_Base64_Dialects);

// Content-Disposition with RFC 2231 continuations + charset, tokenised and looked up.
void BM_Filename_Rfc2231(benchmark::State &state) {
  const std::string cd =
      "attachment; filename*0*=utf-8''%D0%A1%D1%87%D0%B5%D1%82%20%E2%84%96%2042%20;"
      " filename*1*=%D0%BE%D1%82%2001.01.2024; filename*2=\".pdf\"; size=12345";
  auto v = avsink::mime::parse_structured(cd, 256);
  if (!avsink::mime::find_param(v.params, "filename").found) state.SkipWithError("not found");
  for (auto _ : state) {
    auto sv = avsink::mime::parse_structured(cd, 256);
    auto p = avsink::mime::find_param(sv.params, "filename");
    benchmark::DoNotOptimize(p.value.data());
  }
}
BENCHMARK(BM_Filename_Rfc2231);

// name="=?...?=" (RFC 2047 in a parameter, as Outlook writes it), B and Q words.
void BM_Filename_Rfc2047(benchmark::State &state) {
  const std::string name =
      "=?utf-8?B?0KHRh9C10YIg4oSWIDQyINC+0YIgMDEuMDEuMjAyNC5wZGY=?= "
      "=?iso-8859-1?Q?_Anlage_f=FCr_Herrn_M=FCller.pdf?=";
  if (avsink::mime::decode_rfc2047(name).empty()) state.SkipWithError("empty");
  for (auto _ : state) {
    auto s = avsink::mime::decode_rfc2047(name);
    benchmark::DoNotOptimize(s.data());
  }
}
BENCHMARK(BM_Filename_Rfc2047);

#if AVSINK_BENCH_STAGES
// Every reading the attachment policy judges for one hostile name (bidi, padding, %XX, NUL).
void BM_Filename_Readings(benchmark::State &state) {
  const std::string name = std::string("utf-8''invoice%E2%80%AEfdp.exe ; \"report.pdf") +
                           std::string(20, ' ') + ".scr\xef\xbc\x8e" + "js";
  if (avsink::attachments::name_readings(name).empty()) state.SkipWithError("no readings");
  for (auto _ : state) {
    auto r = avsink::attachments::name_readings(name);
    benchmark::DoNotOptimize(r.data());
  }
}
BENCHMARK(BM_Filename_Readings);

// RuleEngine::inspect on one parsed message with state.range(0) rules (no match: the common case).
void BM_RuleMatch(benchmark::State &state) {
  const int n = static_cast<int>(state.range(0));
  char dir[] = "/tmp/avsink-bench-micro-XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    state.SkipWithError("mkdtemp");
    return;
  }
  const std::string path = std::string(dir) + "/micro.rules";
  {
    std::ofstream out(path);
    out << "# bench_micro rules\n";
    for (int i = 0; i < n; ++i) {
      const std::string k = std::to_string(i);
      if (i % 3 == 0) out << "subject /^Outbreak-" << k << " [a-z]+ invoice$/i reject\n";
      if (i % 3 == 1) out << "header-from \"ceo" << k << "@victim.example\"i reject\n";
      if (i % 3 == 2) out << "subject glob:*lottery-" << k << "*winner* discard\n";
    }
  }
  avsink::rules::RulesOptions o;
  o.files = {path};
  o.watch = false;
  auto engine = avsink::rules::RuleEngine::open(o, nullptr);
  std::remove(path.c_str());
  ::rmdir(dir);
  if (!engine) {
    state.SkipWithError(engine.error().describe().c_str());
    return;
  }
  const auto tree = avsink::mime::parse_message(message_text(), avsink::Limits{});
  avsink::Envelope env;
  env.client_address = "203.0.113.9";
  env.mail_from = "sender@example.org";
  env.rcpt_to = {"rcpt@example.net"};
  for (auto _ : state) {
    auto f = (*engine)->inspect(env, tree, 1795478400);
    benchmark::DoNotOptimize(f.data());
  }
}
BENCHMARK(BM_RuleMatch)->Arg(10)->Arg(1000)->Arg(10000);
#endif

}  // namespace

BENCHMARK_MAIN();
