/* Plain C loops for evolved programs: the data file, the evaluation loop, timing and the printed results.
 *
 * A program file defines F, NS, NV, NM (features, scalar/vector/matrix registers), includes this file
 * (which supplies main()), then defines
 *   static inline void predict(Mem *m)   (v0 holds the features, s0 is 0; the prediction goes to s1)
 *   static inline void learn(Mem *m)     (v0 holds the features, s0 the label)
 * and, optionally, before the include:
 *   #define LAYOUT     then define static void enter(Mem *m), leave(Mem *m): into and out of the layout the
 *                      loop prefers (e.g. a matrix kept transposed); the identity otherwise
 *   #define UNSTORED "m1"   registers the loop never stores (e.g. m1 when outer(v7, v0) goes straight into
 *                      m0): left out of the final-memory check Semantics follow azlang's evaluation loop (regression
 * tasks, one epoch): Setup is not re-run here; its result (azlang's memory after Setup) is in the data
 * file, so programs with random Setups start from the same weights. Reductions are sequential in index
 * order, starting from the first product, as azlang's; compile without fast-math or FP contraction.
 *
 * Data file (little-endian): int64 F, n_train, n_valid, n_tasks, NS, NV, NM; then per task:
 * train_x [n_train][F], train_y [n_train], valid_x [n_valid][F], valid_y [n_valid], memory after Setup
 * (s [NS], v [NV][F], m [NM][F][F]); all float64.
 * Usage: PROGRAM DATA_FILE REPEATS. Prints per task "task K fitness X steps N", then "final K v..." (the
 * final memory, every register) and "ns_per_step_median X" over REPEATS timed evaluations of all tasks.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  double s[NS];
  double v[NV][F];
  double m[NM > 0 ? NM : 1][F][F];
} Mem;

typedef struct {
  int64_t n_train, n_valid;
  double *train_x, *train_y, *valid_x, *valid_y;
  Mem init;
} TaskData;

static inline void predict(Mem *m);
static inline void learn(Mem *m);
#ifdef LAYOUT
static void enter(Mem *m);
static void leave(Mem *m);
#else
static void enter(Mem *m) { (void)m; }
static void leave(Mem *m) { (void)m; }
#endif
#ifndef UNSTORED
#define UNSTORED "-"
#endif

static const double MAX_ABS_ERROR = 100.0;
static const double TWO_OVER_PI = 0.63661977236758138243;

static inline double dot_v(const double *a, const double *b) {
  double acc = a[0] * b[0];
  for (int j = 1; j < F; j++) acc += a[j] * b[j];
  return acc;
}

/* Each row sums in index order, as dot_v; the rows advance together (columns outer) so they vectorise
 * across rows instead of waiting on one row's chain of additions. out must not alias x. */
static inline void matvec(double *out, double (*mat)[F], const double *x) {
  for (int i = 0; i < F; i++) out[i] = mat[i][0] * x[0];
  for (int j = 1; j < F; j++)
    for (int i = 0; i < F; i++) out[i] += mat[i][j] * x[j];
}

static void read_exact(FILE *f, void *dst, size_t bytes) {
  if (fread(dst, 1, bytes, f) != bytes) {
    fprintf(stderr, "data file too short\n");
    exit(2);
  }
}

static double *read_doubles(FILE *f, int64_t n) {
  double *p = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  read_exact(f, p, sizeof(double) * (size_t)n);
  return p;
}

static TaskData *load(const char *path, int64_t *n_tasks) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(2);
  }
  int64_t h[7];
  read_exact(f, h, sizeof h);
  if (h[0] != F || h[4] != NS || h[5] != NV || h[6] != NM) {
    fprintf(stderr, "data file shape F=%lld %lld/%lld/%lld, program F=%d %d/%d/%d\n", (long long)h[0],
            (long long)h[4], (long long)h[5], (long long)h[6], F, NS, NV, NM);
    exit(2);
  }
  *n_tasks = h[3];
  TaskData *t = calloc((size_t)h[3], sizeof(TaskData));
  for (int64_t k = 0; k < h[3]; k++) {
    t[k].n_train = h[1];
    t[k].n_valid = h[2];
    t[k].train_x = read_doubles(f, h[1] * F);
    t[k].train_y = read_doubles(f, h[1]);
    t[k].valid_x = read_doubles(f, h[2] * F);
    t[k].valid_y = read_doubles(f, h[2]);
    memset(&t[k].init, 0, sizeof(Mem));
    read_exact(f, t[k].init.s, sizeof(double) * NS);
    read_exact(f, t[k].init.v, sizeof(double) * NV * F);
    if (NM > 0) read_exact(f, t[k].init.m, sizeof(double) * NM * F * F);
  }
  fclose(f);
  return t;
}

/* One evaluation of one task from its post-Setup memory: train, validate, fitness (azlang's evaluate_task). */
static double run_task(const TaskData *t, Mem *m, int64_t *steps) {
  *m = t->init;
  enter(m);
  for (int64_t k = 0; k < t->n_train; k++) {
    const double *x = t->train_x + k * F;
    const double y = t->train_y[k];
    ++*steps;
    memcpy(m->v[0], x, sizeof(double) * F);
    m->s[0] = 0.0;
    predict(m);
    const double err = fabs(y - m->s[1]);
    if (err != err || err > MAX_ABS_ERROR) return 0.0;
    memcpy(m->v[0], x, sizeof(double) * F);
    m->s[0] = y;
    learn(m);
  }
  double loss = 0.0;
  for (int64_t k = 0; k < t->n_valid; k++) {
    memcpy(m->v[0], t->valid_x + k * F, sizeof(double) * F);
    m->s[0] = 0.0;
    predict(m);
    const double e = t->valid_y[k] - m->s[1];
    if (e != e || fabs(e) > MAX_ABS_ERROR) return 0.0;
    loss += e * e;
  }
  const double rms = sqrt(loss / (double)t->n_valid);
  if (rms != rms || isinf(rms)) return 0.0;
  return 1.0 - TWO_OVER_PI * atan(rms);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s DATA_FILE REPEATS\n", argv[0]);
    return 2;
  }
  int64_t n_tasks = 0;
  TaskData *tasks = load(argv[1], &n_tasks);
  const int repeats = atoi(argv[2]);
  Mem mem;
  for (int64_t k = 0; k < n_tasks; k++) { /* the checked run: fitness, steps and final memory */
    int64_t steps = 0;
    const double fit = run_task(&tasks[k], &mem, &steps);
    leave(&mem);
    printf("task %lld fitness %.17g steps %lld\n", (long long)k, fit, (long long)steps);
    printf("final %lld %s", (long long)k, UNSTORED);
    for (int i = 0; i < NS; i++) printf(" %.17g", mem.s[i]);
    for (int i = 0; i < NV; i++)
      for (int j = 0; j < F; j++) printf(" %.17g", mem.v[i][j]);
    for (int i = 0; i < NM; i++)
      for (int j = 0; j < F; j++)
        for (int l = 0; l < F; l++) printf(" %.17g", mem.m[i][j][l]);
    printf("\n");
  }
  double *per = malloc(sizeof(double) * (size_t)(repeats > 0 ? repeats : 1));
  volatile double sink = 0.0; /* keeps every evaluation observable */
  for (int r = 0; r < repeats; r++) {
    int64_t steps = 0;
    const double t0 = now();
    for (int64_t k = 0; k < n_tasks; k++) sink += run_task(&tasks[k], &mem, &steps);
    per[r] = (now() - t0) * 1e9 / (double)steps;
  }
  qsort(per, (size_t)repeats, sizeof(double), cmp_double);
  printf("ns_per_step_median %.3f\n", repeats ? per[repeats / 2] : 0.0);
  return sink == 12345.678 ? 1 : 0;
}
