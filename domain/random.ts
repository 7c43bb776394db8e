/**
 * The project's one seeded random generator (mulberry32: small, fast, good enough for synthetic traffic
 * and reproducible chaos runs). Pure: the same seed gives the same sequence on every machine, which is
 * what makes simulated data, fault injection and `flowlog replay --seed` repeatable.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
