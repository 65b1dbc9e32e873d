/* header_c_test.c - avsink.h must compile alone as strict C11 (-pedantic -Werror).
 * Also checks the INIT macros produce the struct sizes the ABI promises. */
#include <avsink/avsink.h>

static avsink_error e = AVSINK_ERROR_INIT;
static avsink_engine_options o = AVSINK_ENGINE_OPTIONS_INIT;
static avsink_envelope v = AVSINK_ENVELOPE_INIT;

typedef char error_size_check[sizeof(avsink_error) > 512 ? 1 : -1];

int avsink_header_test_sizes(void);
int avsink_header_test_sizes(void) {
  return (int)(e.size + o.size + v.size);
}
