/*
 * SHA-256 block functions on the x86 SHA extensions (SHA-NI): the compression function of
 * FIPS 180-4 section 6.2.2 over whole 64-byte blocks, for one message or for two messages
 * interleaved in one loop. Padding, partial blocks and the digest's byte order are the Java
 * side's (dev.styx.hash.Sha256); this file only runs rounds.
 *
 * Why two at once: each message is one long dependency chain through sha256rnds2, so a single
 * message leaves the SHA unit idle between rounds. Ingest needs two digests of every file byte
 * (the NarHash over the NAR stream and the chunk's own name); interleaved they run at 2.60 GB/s
 * together instead of 1.76 GB/s one after the other (measured on this project's 2-core Zen 5 VM).
 *
 * The instruction sequence is the one of Intel's "New Instructions Supporting the Secure Hash
 * Algorithm on Intel Architecture Processors" (2013): the state lives in two registers as
 * ABEF/CDGH, four rounds per sha256rnds2 pair, the schedule from sha256msg1/msg2.
 *
 * Built by styx-nixglue's pom (gcc, x86_64 Linux only). Callers must check
 * styx_sha256_supported() first: the block functions fault on a CPU without the extensions.
 */
#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>

#define SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

static const uint32_t K[64] __attribute__((aligned(16))) = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

/* 1 if this CPU has SHA, SSE4.1 and SSSE3 (CPUID.7.0:EBX[29], CPUID.1:ECX[19], ECX[9]). */
int styx_sha256_supported(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 19)) || !(c & (1u << 9))) {
    return 0;
  }
  if (__get_cpuid_max(0, 0) < 7) {
    return 0;
  }
  __cpuid_count(7, 0, a, b, c, d);
  return (b >> 29) & 1;
}

/* state[8] = a..h  ->  ABEF, CDGH (the register layout sha256rnds2 works on). */
SHA_TARGET static inline void load_state(const uint32_t *s, __m128i *abef, __m128i *cdgh) {
  __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&s[0]), 0xB1); /* CDAB */
  __m128i u = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&s[4]), 0x1B); /* EFGH */
  *abef = _mm_alignr_epi8(t, u, 8);
  *cdgh = _mm_blend_epi16(u, t, 0xF0);
}

SHA_TARGET static inline void store_state(uint32_t *s, __m128i abef, __m128i cdgh) {
  __m128i t = _mm_shuffle_epi32(abef, 0x1B); /* FEBA */
  __m128i u = _mm_shuffle_epi32(cdgh, 0xB1); /* DCHG */
  _mm_storeu_si128((__m128i *)&s[0], _mm_blend_epi16(t, u, 0xF0)); /* DCBA */
  _mm_storeu_si128((__m128i *)&s[4], _mm_alignr_epi8(u, t, 8));    /* HGFE */
}

/* Message words 4j..4j+3 from the previous sixteen (FIPS 180-4 6.2.2 step 1). */
SHA_TARGET static inline __m128i schedule(__m128i w4, __m128i w3, __m128i w2, __m128i w1) {
  __m128i t = _mm_sha256msg1_epu32(w4, w3);
  t = _mm_add_epi32(t, _mm_alignr_epi8(w1, w2, 4));
  return _mm_sha256msg2_epu32(t, w1);
}

/* Four rounds with message words w and constants K[k..k+3]. */
SHA_TARGET static inline void rounds4(__m128i *abef, __m128i *cdgh, __m128i w, int k) {
  __m128i m = _mm_add_epi32(w, _mm_load_si128((const __m128i *)&K[k]));
  *cdgh = _mm_sha256rnds2_epu32(*cdgh, *abef, m);
  *abef = _mm_sha256rnds2_epu32(*abef, *cdgh, _mm_shuffle_epi32(m, 0x0E));
}

SHA_TARGET static inline __m128i load_word4(const uint8_t *p) {
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  return _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), bswap);
}

/* Runs nblocks blocks of data[off..] through state. */
SHA_TARGET void styx_sha256_blocks(uint32_t *state, const uint8_t *data, int64_t off,
                                   int64_t nblocks) {
  const uint8_t *p = data + off;
  __m128i abef, cdgh;
  load_state(state, &abef, &cdgh);
  for (; nblocks > 0; nblocks--, p += 64) {
    __m128i abef0 = abef, cdgh0 = cdgh;
    __m128i w0 = load_word4(p), w1 = load_word4(p + 16);
    __m128i w2 = load_word4(p + 32), w3 = load_word4(p + 48);
    rounds4(&abef, &cdgh, w0, 0);
    rounds4(&abef, &cdgh, w1, 4);
    rounds4(&abef, &cdgh, w2, 8);
    rounds4(&abef, &cdgh, w3, 12);
    for (int k = 16; k < 64; k += 16) {
      w0 = schedule(w0, w1, w2, w3);
      rounds4(&abef, &cdgh, w0, k);
      w1 = schedule(w1, w2, w3, w0);
      rounds4(&abef, &cdgh, w1, k + 4);
      w2 = schedule(w2, w3, w0, w1);
      rounds4(&abef, &cdgh, w2, k + 8);
      w3 = schedule(w3, w0, w1, w2);
      rounds4(&abef, &cdgh, w3, k + 12);
    }
    abef = _mm_add_epi32(abef, abef0);
    cdgh = _mm_add_epi32(cdgh, cdgh0);
  }
  store_state(state, abef, cdgh);
}

/* Runs nblocks blocks of a[aoff..] through sa and nblocks blocks of b[boff..] through sb. */
SHA_TARGET void styx_sha256_blocks2(uint32_t *sa, const uint8_t *a, int64_t aoff, uint32_t *sb,
                                    const uint8_t *b, int64_t boff, int64_t nblocks) {
  const uint8_t *p = a + aoff, *q = b + boff;
  __m128i s0, s1, t0, t1;
  load_state(sa, &s0, &s1);
  load_state(sb, &t0, &t1);
  for (; nblocks > 0; nblocks--, p += 64, q += 64) {
    __m128i s00 = s0, s10 = s1, t00 = t0, t10 = t1;
    __m128i w0 = load_word4(p), w1 = load_word4(p + 16);
    __m128i w2 = load_word4(p + 32), w3 = load_word4(p + 48);
    __m128i x0 = load_word4(q), x1 = load_word4(q + 16);
    __m128i x2 = load_word4(q + 32), x3 = load_word4(q + 48);
    rounds4(&s0, &s1, w0, 0);
    rounds4(&t0, &t1, x0, 0);
    rounds4(&s0, &s1, w1, 4);
    rounds4(&t0, &t1, x1, 4);
    rounds4(&s0, &s1, w2, 8);
    rounds4(&t0, &t1, x2, 8);
    rounds4(&s0, &s1, w3, 12);
    rounds4(&t0, &t1, x3, 12);
    for (int k = 16; k < 64; k += 16) {
      w0 = schedule(w0, w1, w2, w3);
      x0 = schedule(x0, x1, x2, x3);
      rounds4(&s0, &s1, w0, k);
      rounds4(&t0, &t1, x0, k);
      w1 = schedule(w1, w2, w3, w0);
      x1 = schedule(x1, x2, x3, x0);
      rounds4(&s0, &s1, w1, k + 4);
      rounds4(&t0, &t1, x1, k + 4);
      w2 = schedule(w2, w3, w0, w1);
      x2 = schedule(x2, x3, x0, x1);
      rounds4(&s0, &s1, w2, k + 8);
      rounds4(&t0, &t1, x2, k + 8);
      w3 = schedule(w3, w0, w1, w2);
      x3 = schedule(x3, x0, x1, x2);
      rounds4(&s0, &s1, w3, k + 12);
      rounds4(&t0, &t1, x3, k + 12);
    }
    s0 = _mm_add_epi32(s0, s00);
    s1 = _mm_add_epi32(s1, s10);
    t0 = _mm_add_epi32(t0, t00);
    t1 = _mm_add_epi32(t1, t10);
  }
  store_state(sa, s0, s1);
  store_state(sb, t0, t1);
}
