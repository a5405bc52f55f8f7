/* stdlib/nn_2layer.az (the reference's two-layer ReLU net with backprop) at F=16, as a plain C loop.
 * Memory 5/9/2. Setup's Gaussian draws come from the data file (azlang's memory after Setup).
 *   Predict: v3 = dot(m0, v0); v3 = v3 + v1; v4 = maximum(v3, v5); s1 = dot(v4, v2); s1 = s1 + s2
 *   Learn:   s4 = s0 - s1; s4 = s3 * s4; s2 = s2 + s4; v6 = s4 * v4; v2 = v2 + v6; v7 = s4 * v2;
 *            v8 = heaviside(v3); v7 = v8 * v7; v1 = v1 + v7; m1 = outer(v7, v0); m0 = m0 + m1
 * Written as a person would for speed, with the same arithmetic: m0 is kept transposed (so the row sums of
 * dot(m0, v0) advance together over contiguous columns, each still in index order) and outer(v7, v0) is
 * added straight into m0 (the same rounded products and sums; the temporary m1 is never stored).
 */
#define F 16
#define NS 5
#define NV 9
#define NM 2
#define LAYOUT
#define UNSTORED "m1"
#include "common.h"

static void transpose(double (*a)[F]) {
  for (int i = 0; i < F; i++)
    for (int j = i + 1; j < F; j++) {
      const double t = a[i][j];
      a[i][j] = a[j][i];
      a[j][i] = t;
    }
}

static void enter(Mem *m) { transpose(m->m[0]); }
static void leave(Mem *m) { transpose(m->m[0]); }

static inline double maximum(double a, double b) { return a > b ? a : b; } /* azlang's: b unless a > b */

static inline void predict(Mem *m) {
  double(*wt)[F] = m->m[0]; /* wt[j][i] = m0[i][j] */
  for (int i = 0; i < F; i++) m->v[3][i] = wt[0][i] * m->v[0][0];
  for (int j = 1; j < F; j++)
    for (int i = 0; i < F; i++) m->v[3][i] += wt[j][i] * m->v[0][j];
  for (int i = 0; i < F; i++) m->v[3][i] = m->v[3][i] + m->v[1][i];
  for (int i = 0; i < F; i++) m->v[4][i] = maximum(m->v[3][i], m->v[5][i]);
  m->s[1] = dot_v(m->v[4], m->v[2]);
  m->s[1] = m->s[1] + m->s[2];
}

static inline void learn(Mem *m) {
  m->s[4] = m->s[0] - m->s[1];
  m->s[4] = m->s[3] * m->s[4];
  m->s[2] = m->s[2] + m->s[4];
  for (int i = 0; i < F; i++) m->v[6][i] = m->s[4] * m->v[4][i];
  for (int i = 0; i < F; i++) m->v[2][i] = m->v[2][i] + m->v[6][i];
  for (int i = 0; i < F; i++) m->v[7][i] = m->s[4] * m->v[2][i];
  for (int i = 0; i < F; i++) m->v[8][i] = (double)(m->v[3][i] > 0.0);
  for (int i = 0; i < F; i++) m->v[7][i] = m->v[8][i] * m->v[7][i];
  for (int i = 0; i < F; i++) m->v[1][i] = m->v[1][i] + m->v[7][i];
  double(*wt)[F] = m->m[0];
  for (int j = 0; j < F; j++) /* m0 = m0 + outer(v7, v0), transposed */
    for (int i = 0; i < F; i++) wt[j][i] = wt[j][i] + m->v[7][i] * m->v[0][j];
}
