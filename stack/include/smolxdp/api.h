/* What every public header wraps its declarations in: C linkage for C++ callers, and default
 * visibility, so that libsmolxdp.so, whose sources are compiled with -fvisibility=hidden, exports what
 * the public headers declare and nothing else (tests/lib/test_symbols.sh checks both lists agree). */
#ifndef SMOLXDP_API_H
#define SMOLXDP_API_H

#if defined(__GNUC__) || defined(__clang__)
#define SMX_VISIBILITY_PUSH _Pragma("GCC visibility push(default)")
#define SMX_VISIBILITY_POP _Pragma("GCC visibility pop")
#else
#define SMX_VISIBILITY_PUSH
#define SMX_VISIBILITY_POP
#endif

#ifdef __cplusplus
#define SMX_API_BEGIN extern "C" { SMX_VISIBILITY_PUSH
#define SMX_API_END SMX_VISIBILITY_POP }
#else
#define SMX_API_BEGIN SMX_VISIBILITY_PUSH
#define SMX_API_END SMX_VISIBILITY_POP
#endif

#endif
