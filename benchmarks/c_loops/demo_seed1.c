/* The program the demo's fixed-work run evolves (examples/demo.toml, seed 1, 2e8 train steps), after dce:
 * 5/2/5 instructions, as a plain C loop. Demo shape: F=4, memory 4/3/1.
 *   Predict: s1 = dot(v0, v2); s1 = s2 * s1
 *   Learn:   v2 = v2 + v1; s3 = s0 - s1; v1 = s3 * v0; v2 = v2 + v1; s2 = 0.08480545352211917
 */
#define F 4
#define NS 4
#define NV 3
#define NM 1
#include "common.h"

static inline void predict(Mem *m) {
  m->s[1] = dot_v(m->v[0], m->v[2]);
  m->s[1] = m->s[2] * m->s[1];
}

static inline void learn(Mem *m) {
  for (int i = 0; i < F; i++) m->v[2][i] = m->v[2][i] + m->v[1][i];
  m->s[3] = m->s[0] - m->s[1];
  for (int i = 0; i < F; i++) m->v[1][i] = m->s[3] * m->v[0][i];
  for (int i = 0; i < F; i++) m->v[2][i] = m->v[2][i] + m->v[1][i];
  m->s[2] = 0.08480545352211917;
}
