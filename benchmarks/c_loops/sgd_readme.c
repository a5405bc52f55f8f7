/* The SGD linear regressor that `azc evolve --seed stdlib/empty.az` rediscovers (README), as a plain C loop.
 * Demo shape: F=4, memory 4/3/1.
 *   Predict: s1 = dot(v0, v1)
 *   Learn:   s2 = s1 - s0; v1 = s2 * v0; v2 = v2 + v1; v1 = s3 * v2; s3 = -0.1762390290293345
 */
#define F 4
#define NS 4
#define NV 3
#define NM 1
#include "common.h"

static inline void predict(Mem *m) { m->s[1] = dot_v(m->v[0], m->v[1]); }

static inline void learn(Mem *m) {
  m->s[2] = m->s[1] - m->s[0];
  for (int i = 0; i < F; i++) m->v[1][i] = m->s[2] * m->v[0][i];
  for (int i = 0; i < F; i++) m->v[2][i] = m->v[2][i] + m->v[1][i];
  for (int i = 0; i < F; i++) m->v[1][i] = m->s[3] * m->v[2][i];
  m->s[3] = -0.1762390290293345;
}
