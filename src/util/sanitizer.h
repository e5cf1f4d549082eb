/* Which sanitizer this translation unit is built with, the same way for gcc and clang. */
#ifndef KOBE_UTIL_SANITIZER_H
#define KOBE_UTIL_SANITIZER_H

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KOBE_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define KOBE_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(KOBE_ASAN)
#define KOBE_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(KOBE_TSAN)
#define KOBE_TSAN 1
#endif
#ifndef KOBE_ASAN
#define KOBE_ASAN 0
#endif
#ifndef KOBE_TSAN
#define KOBE_TSAN 0
#endif

#endif
