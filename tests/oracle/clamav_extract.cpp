// clamav_extract.cpp - the differential oracle's libclamav extractor: every file libclamav's own
// walk (mail parser, archives) hands to its scanner is written out, via the file-inspection hook.
#include <cstdio>
#include <cstring>
#include <string>

#include <clamav.h>

namespace {

struct Dump {
  std::string dir;  // where the files go: DIR/<n>-<level>
  int count = 0;
  FILE *index = nullptr;  // one line per file: name, level, libclamav type
};

cl_error_t on_file(int /*fd*/, const char *type, const char ** /*ancestors*/,
                   size_t /*parent_file_size*/, const char *file_name, size_t file_size,
                   const char *file_buffer, uint32_t recursion_level, uint32_t /*attributes*/,
                   void *context) {
  auto *d = static_cast<Dump *>(context);
  if (recursion_level == 0 || file_buffer == nullptr) return CL_CLEAN;  // level 0: the input
  std::string name =
      d->dir + "/" + std::to_string(d->count++) + "-" + std::to_string(recursion_level);
  if (FILE *f = std::fopen(name.c_str(), "wb")) {
    if (file_size > 0) std::fwrite(file_buffer, 1, file_size, f);
    std::fclose(f);
  }
  if (d->index)
    std::fprintf(d->index, "%s\t%u\t%s\t%s\n", name.c_str(), recursion_level, type ? type : "",
                 file_name ? file_name : "");
  return CL_CLEAN;
}

}  // namespace

// usage: clamav_extract OUTDIR MESSAGE
// Writes OUTDIR/<n>-<level> per extracted file and OUTDIR/index.tsv; exits 0 unless the engine
// could not be set up or the message could not be opened (2).
int main(int argc, char **argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: clamav_extract OUTDIR MESSAGE\n");
    return 2;
  }
  if (cl_init(CL_INIT_DEFAULT) != CL_SUCCESS) return 2;
  cl_engine *engine = cl_engine_new();
  if (engine == nullptr) return 2;
  if (cl_engine_compile(engine) != CL_SUCCESS) {  // no signatures: only the walk matters
    cl_engine_free(engine);
    return 2;
  }
  cl_engine_set_clcb_file_inspection(engine, on_file);
  Dump d;
  d.dir = argv[1];
  d.index = std::fopen((d.dir + "/index.tsv").c_str(), "w");
  cl_scan_options opts;
  std::memset(&opts, 0, sizeof opts);
  opts.parse = ~0u;  // every parser, the mail parser included
  const char *virname = nullptr;
  unsigned long scanned = 0;
  cl_error_t rc = cl_scanfile_callback(argv[2], &virname, &scanned, engine, &opts, &d);
  if (d.index) std::fclose(d.index);
  cl_engine_free(engine);
  if (rc != CL_CLEAN && rc != CL_VIRUS) {
    std::fprintf(stderr, "clamav_extract: %s: %s\n", argv[2], cl_strerror(rc));
    return rc == CL_EOPEN ? 2 : 0;
  }
  return 0;
}
