/*
 * nice_bench.c - plain-C reference benchmark for libnice (0.1.21).
 *
 * The Swift wrapper (NiceICE) is compared against these figures in the same
 * run.  Threading model (mirrors one NiceContext = one GMainLoop thread):
 *   - one GMainContext, run by g_main_loop_run() on a dedicated GThread
 *     ("loop thread");
 *   - EVERY libnice call and every libnice signal/recv callback happens on
 *     the loop thread (the main thread posts work with a DEFAULT-priority
 *     idle source and waits on a GCond with a timeout);
 *   - timestamps are taken on the loop thread, where the events are observed
 *     (i.e. the point where a wrapper's loop thread would see them).
 * Only 127.0.0.1 is used; no STUN/TURN; every wait is bounded in time.
 * Results: one JSON object per line on stdout; logs on stderr.
 */
#define _GNU_SOURCE
#include <nice/agent.h>
#include <glib.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 32
#define PHASE_TIMEOUT_S 30.0
#define DRAIN_MAX_ITER 100000
#define TAIL_TIMEOUT_US (10 * G_USEC_PER_SEC)
#define FDS_PER_PAIR 4

#define LOG(...) do { fprintf(stderr, "[nice-bench] " __VA_ARGS__); fputc('\n', stderr); } while (0)

/* ------------------------------------------------------------------ state */

typedef struct Pair Pair;

typedef struct {
  NiceAgent *agent;
  guint stream;
  Pair *pair;
  int side;                 /* 0 = A (controlling), 1 = B (controlled) */
  GSList *pending;          /* candidates gathered before start of checks */
  gboolean gathering_done;
  gboolean connected, ready, failed;
  guint64 recv_count;
  gint64 last_recv_us;
} Peer;

struct Pair {
  Peer p[2];
  gboolean started;
  gint64 t_start_us, t_connected_us, t_ready_us;
};

static struct {
  GMainContext *ctx;
  GMainLoop *loop;
  GThread *thread;
  GMutex m;
  GCond c;
  /* counters written on the loop thread under m, read by the main thread */
  int n_gathered, n_connected, n_ready, n_failed, n_closed;
  gint64 t_last_ready_us;
} g;

static void
bump (int *counter)
{
  g_mutex_lock (&g.m);
  (*counter)++;
  g_cond_broadcast (&g.c);
  g_mutex_unlock (&g.m);
}

/* Wait (main thread) until *counter >= target; abort on timeout/failure. */
static void
wait_count (int *counter, int target, double timeout_s, const char *what)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);
  g_mutex_lock (&g.m);
  while (*counter < target) {
    if (g.n_failed > 0) {
      g_mutex_unlock (&g.m);
      LOG ("ERROR: a component went to FAILED while waiting for %s", what);
      exit (2);
    }
    if (!g_cond_wait_until (&g.c, &g.m, deadline) && *counter < target) {
      int have = *counter;
      g_mutex_unlock (&g.m);
      LOG ("ERROR: timeout (%.0f s) waiting for %s (%d/%d)", timeout_s, what,
          have, target);
      exit (3);
    }
  }
  g_mutex_unlock (&g.m);
}

/* Run fn(arg) on the loop thread and wait for it to return. */
typedef struct { void (*fn) (void *); void *arg; int done; } Call;

static gboolean
call_trampoline (gpointer data)
{
  Call *c = data;
  c->fn (c->arg);
  bump (&c->done);
  return G_SOURCE_REMOVE;
}

static void
on_loop (void (*fn) (void *), void *arg, double timeout_s, const char *what)
{
  Call c = { fn, arg, 0 };
  GSource *s = g_idle_source_new ();
  g_source_set_priority (s, G_PRIORITY_DEFAULT);
  g_source_set_callback (s, call_trampoline, &c, NULL);
  g_source_attach (s, g.ctx);
  g_source_unref (s);
  wait_count (&c.done, 1, timeout_s, what);
}

static gpointer
loop_thread_fn (gpointer data)
{
  (void) data;
  g_main_context_push_thread_default (g.ctx);
  g_main_loop_run (g.loop);
  g_main_context_pop_thread_default (g.ctx);
  return NULL;
}

static void
reset_counters (void)
{
  g_mutex_lock (&g.m);
  g.n_gathered = g.n_connected = g.n_ready = g.n_failed = g.n_closed = 0;
  g.t_last_ready_us = 0;
  g_mutex_unlock (&g.m);
}

/* ------------------------------------------------------------ /proc info */

static long
proc_status_field (const char *key)
{
  FILE *f = fopen ("/proc/self/status", "r");
  char line[256];
  size_t klen = strlen (key);
  long v = -1;
  if (!f)
    return -1;
  while (fgets (line, sizeof line, f)) {
    if (strncmp (line, key, klen) == 0 && line[klen] == ':') {
      v = strtol (line + klen + 1, NULL, 10);
      break;
    }
  }
  fclose (f);
  return v;
}

static long rss_kb (void) { return proc_status_field ("VmRSS"); }
static long thread_count (void) { return proc_status_field ("Threads"); }

static long
fd_count (void)
{
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *e;
  long n = 0;
  if (!d)
    return -1;
  while ((e = readdir (d)))
    if (e->d_name[0] != '.')
      n++;
  closedir (d);
  return n - 1; /* the DIR's own fd */
}

/* stderr: names of all threads and targets of all fds (for churn diffs) */
static void
log_threads_fds (const char *when)
{
  GString *str = g_string_new (NULL);
  GDir *d = g_dir_open ("/proc/self/task", 0, NULL);
  const gchar *name;
  while (d && (name = g_dir_read_name (d))) {
    gchar *path = g_strdup_printf ("/proc/self/task/%s/comm", name), *comm = NULL;
    if (g_file_get_contents (path, &comm, NULL, NULL))
      g_string_append_printf (str, " %s", g_strstrip (comm));
    g_free (comm);
    g_free (path);
  }
  if (d)
    g_dir_close (d);
  LOG ("%s: threads:%s", when, str->str);
  g_string_truncate (str, 0);
  d = g_dir_open ("/proc/self/fd", 0, NULL);
  while (d && (name = g_dir_read_name (d))) {
    gchar *path = g_strdup_printf ("/proc/self/fd/%s", name);
    gchar *target = g_file_read_link (path, NULL);
    g_string_append_printf (str, " %s=%s", name, target ? target : "?");
    g_free (target);
    g_free (path);
  }
  if (d)
    g_dir_close (d);
  LOG ("%s: fds:%s", when, str->str);
  g_string_free (str, TRUE);
}

/* ------------------------------------------------------------- reporting */

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* linear interpolation between closest ranks (numpy's default) */
static double
percentile (const double *sorted, int n, double p)
{
  double pos, frac;
  int lo;
  if (n == 1)
    return sorted[0];
  pos = p * (n - 1);
  lo = (int) pos;
  if (lo >= n - 1)
    return sorted[n - 1];
  frac = pos - lo;
  return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

static void
emit_run (const char *bench, int run, double value, const char *unit)
{
  printf ("{\"bench\":\"%s\",\"impl\":\"c\",\"run\":%d,\"value\":%.3f,\"unit\":\"%s\"}\n",
      bench, run, value, unit);
  fflush (stdout);
}

static void
emit_summary (const char *bench, const double *values, int n, const char *unit)
{
  double *s;
  if (n <= 0)
    return;
  s = g_memdup2 (values, sizeof (double) * n);
  qsort (s, n, sizeof (double), cmp_double);
  printf ("{\"bench\":\"%s\",\"impl\":\"c\",\"summary\":true,\"median\":%.3f,"
      "\"p10\":%.3f,\"p90\":%.3f,\"min\":%.3f,\"max\":%.3f,\"n\":%d,\"unit\":\"%s\"}\n",
      bench, percentile (s, n, 0.5), percentile (s, n, 0.1),
      percentile (s, n, 0.9), s[0], s[n - 1], n, unit);
  fflush (stdout);
  g_free (s);
}

/* ------------------------------------------------------ libnice callbacks */

static void
on_new_candidate (NiceAgent *agent, NiceCandidate *cand, gpointer data)
{
  Peer *me = data;
  Peer *other = &me->pair->p[1 - me->side];
  (void) agent;
  if (me->pair->started) {
    GSList one = { cand, NULL };
    nice_agent_set_remote_candidates (other->agent, other->stream, 1, &one);
  } else {
    me->pending = g_slist_prepend (me->pending, nice_candidate_copy (cand));
  }
}

static void
on_gathering_done (NiceAgent *agent, guint stream, gpointer data)
{
  Peer *me = data;
  Peer *other = &me->pair->p[1 - me->side];
  (void) agent; (void) stream;
  me->gathering_done = TRUE;
  if (me->pair->started)
    nice_agent_peer_candidate_gathering_done (other->agent, other->stream);
  bump (&g.n_gathered);
}

static void
on_state (NiceAgent *agent, guint stream, guint comp, guint state, gpointer data)
{
  Peer *me = data;
  Pair *pr = me->pair;
  gint64 now = g_get_monotonic_time ();
  (void) agent; (void) stream; (void) comp;

  if ((state == NICE_COMPONENT_STATE_CONNECTED ||
       state == NICE_COMPONENT_STATE_READY) && !me->connected) {
    me->connected = TRUE;
    if (pr->p[1 - me->side].connected)
      pr->t_connected_us = now;
    bump (&g.n_connected);
  }
  if (state == NICE_COMPONENT_STATE_READY && !me->ready) {
    me->ready = TRUE;
    if (pr->p[1 - me->side].ready)
      pr->t_ready_us = now;
    g_mutex_lock (&g.m);
    g.t_last_ready_us = now;
    g.n_ready++;
    g_cond_broadcast (&g.c);
    g_mutex_unlock (&g.m);
  }
  if (state == NICE_COMPONENT_STATE_FAILED && !me->failed) {
    me->failed = TRUE;
    LOG ("component of agent %c went FAILED", me->side ? 'B' : 'A');
    bump (&g.n_failed);
  }
}

static void
on_recv (NiceAgent *agent, guint stream, guint comp, guint len, gchar *buf,
    gpointer data)
{
  Peer *me = data;
  (void) agent; (void) stream; (void) comp; (void) len; (void) buf;
  me->recv_count++;
  me->last_recv_us = g_get_monotonic_time ();
}

static void
on_closed (GObject *src, GAsyncResult *res, gpointer data)
{
  (void) src; (void) res; (void) data;
  bump (&g.n_closed);
}

/* ------------------------------------------------ pair life cycle (loop) */

static void
peer_init (Pair *pr, int side)
{
  Peer *me = &pr->p[side];
  NiceAddress addr;

  me->pair = pr;
  me->side = side;
  me->agent = nice_agent_new_full (g.ctx, NICE_COMPATIBILITY_RFC5245,
      NICE_AGENT_OPTION_ICE_TRICKLE | NICE_AGENT_OPTION_CONSENT_FRESHNESS |
      NICE_AGENT_OPTION_REGULAR_NOMINATION);
  g_object_set (me->agent, "upnp", FALSE, "ice-tcp", FALSE, "ice-udp", TRUE,
      "controlling-mode", side == 0, NULL);
  nice_address_init (&addr);
  if (!nice_address_set_from_string (&addr, "127.0.0.1") ||
      !nice_agent_add_local_address (me->agent, &addr)) {
    LOG ("ERROR: cannot add local address 127.0.0.1");
    exit (4);
  }
  g_signal_connect (me->agent, "new-candidate-full",
      G_CALLBACK (on_new_candidate), me);
  g_signal_connect (me->agent, "candidate-gathering-done",
      G_CALLBACK (on_gathering_done), me);
  g_signal_connect (me->agent, "component-state-changed",
      G_CALLBACK (on_state), me);
  me->stream = nice_agent_add_stream (me->agent, 1);
  if (me->stream == 0) {
    LOG ("ERROR: nice_agent_add_stream failed");
    exit (4);
  }
  nice_agent_attach_recv (me->agent, me->stream, 1, g.ctx, on_recv, me);
}

/* create agents and start gathering (completes via candidate-gathering-done) */
static void
pair_create (Pair *pr)
{
  int s;
  memset (pr, 0, sizeof *pr);
  peer_init (pr, 0);
  peer_init (pr, 1);
  for (s = 0; s < 2; s++) {
    if (!nice_agent_gather_candidates (pr->p[s].agent, pr->p[s].stream)) {
      LOG ("ERROR: nice_agent_gather_candidates failed");
      exit (4);
    }
  }
}

/* start of checks: remote credentials on both, then the candidates flow */
static void
pair_start (Pair *pr)
{
  int s;
  pr->t_start_us = g_get_monotonic_time ();
  for (s = 0; s < 2; s++) {
    Peer *me = &pr->p[s], *other = &pr->p[1 - s];
    gchar *ufrag = NULL, *pwd = NULL;
    if (!nice_agent_get_local_credentials (other->agent, other->stream,
            &ufrag, &pwd) ||
        !nice_agent_set_remote_credentials (me->agent, me->stream, ufrag, pwd)) {
      LOG ("ERROR: credentials exchange failed");
      exit (4);
    }
    g_free (ufrag);
    g_free (pwd);
  }
  pr->started = TRUE;
  for (s = 0; s < 2; s++) {
    Peer *me = &pr->p[s], *other = &pr->p[1 - s];
    if (me->pending) {
      me->pending = g_slist_reverse (me->pending);
      nice_agent_set_remote_candidates (other->agent, other->stream, 1,
          me->pending);
      g_slist_free_full (me->pending, (GDestroyNotify) nice_candidate_free);
      me->pending = NULL;
    }
    if (me->gathering_done)
      nice_agent_peer_candidate_gathering_done (other->agent, other->stream);
  }
}

static void
pair_close_async (Pair *pr)
{
  int s;
  for (s = 0; s < 2; s++)
    nice_agent_close_async (pr->p[s].agent, on_closed, &pr->p[s]);
}

static void
pair_unref (Pair *pr)
{
  int s;
  for (s = 0; s < 2; s++) {
    g_signal_handlers_disconnect_by_data (pr->p[s].agent, &pr->p[s]);
    g_object_unref (pr->p[s].agent);
    pr->p[s].agent = NULL;
    g_slist_free_full (pr->p[s].pending, (GDestroyNotify) nice_candidate_free);
    pr->p[s].pending = NULL;
  }
}

/* loop-thread jobs over an array of pairs */
typedef struct { Pair *pairs; int n; } Pairs;

static void job_create (void *a) { Pairs *p = a; for (int i = 0; i < p->n; i++) pair_create (&p->pairs[i]); }
static void job_start (void *a) { Pairs *p = a; for (int i = 0; i < p->n; i++) pair_start (&p->pairs[i]); }
static void job_close (void *a) { Pairs *p = a; for (int i = 0; i < p->n; i++) pair_close_async (&p->pairs[i]); }
static void job_unref (void *a) { Pairs *p = a; for (int i = 0; i < p->n; i++) pair_unref (&p->pairs[i]); }

/* Main thread: create+gather (untimed), start checks, wait all READY. */
static void
connect_pairs (Pairs *ps, double timeout_s)
{
  reset_counters ();
  on_loop (job_create, ps, timeout_s, "agent creation");
  wait_count (&g.n_gathered, 2 * ps->n, timeout_s, "candidate-gathering-done");
  on_loop (job_start, ps, timeout_s, "start of checks");
  wait_count (&g.n_ready, 2 * ps->n, timeout_s, "all components READY");
}

static void
close_pairs (Pairs *ps, double timeout_s)
{
  g_mutex_lock (&g.m);
  g.n_closed = 0;
  g_mutex_unlock (&g.m);
  on_loop (job_close, ps, timeout_s, "close_async start");
  wait_count (&g.n_closed, 2 * ps->n, timeout_s, "nice_agent_close_async callbacks");
  on_loop (job_unref, ps, timeout_s, "agent unref");
}

/* --------------------------------------------------------------- benches */

static double us_to_ms (gint64 us) { return us / 1000.0; }

static int
bench_connect (int runs)
{
  double *ready = g_new0 (double, runs), *conn = g_new0 (double, runs);
  for (int r = 0; r < runs; r++) {
    Pair pr;
    Pairs ps = { &pr, 1 };
    connect_pairs (&ps, PHASE_TIMEOUT_S);
    ready[r] = us_to_ms (pr.t_ready_us - pr.t_start_us);
    conn[r] = us_to_ms (pr.t_connected_us - pr.t_start_us);
    emit_run ("connect", r + 1, ready[r], "ms");
    emit_run ("connect-connected", r + 1, conn[r], "ms");
    close_pairs (&ps, PHASE_TIMEOUT_S);
  }
  emit_summary ("connect", ready, runs, "ms");
  emit_summary ("connect-connected", conn, runs, "ms");
  g_free (ready);
  g_free (conn);
  return 0;
}

typedef struct {
  Pair *pr;
  long count, size;
  guint64 received, sent_ok, send_err;
  gint64 t_first_send_us, t_last_recv_us;
  gboolean timed_out;
} TpJob;

static gboolean tick (gpointer d) { (void) d; return G_SOURCE_CONTINUE; }

/* Runs on the loop thread (inside a dispatched source; nested iteration). */
static void
job_throughput (void *a)
{
  TpJob *j = a;
  Peer *A = &j->pr->p[0], *B = &j->pr->p[1];
  gchar *buf = g_malloc (j->size);
  gint64 send_deadline, tail_deadline;
  GSource *tk;
  long i = 0;

  for (long k = 0; k < j->size; k++)
    buf[k] = (gchar) k;
  B->recv_count = 0;
  B->last_recv_us = 0;
  j->t_first_send_us = g_get_monotonic_time ();
  send_deadline = j->t_first_send_us + 120 * G_USEC_PER_SEC;
  while (i < j->count) {
    int k, it = 0;
    for (k = 0; k < BATCH && i < j->count; k++, i++) {
      gint r = nice_agent_send (A->agent, A->stream, 1, j->size, buf);
      if (r == j->size) j->sent_ok++; else j->send_err++;
    }
    while (g_main_context_iteration (g.ctx, FALSE) && ++it < DRAIN_MAX_ITER)
      ;
    if ((i & 1023) < BATCH && g_get_monotonic_time () > send_deadline) {
      LOG ("ERROR: send phase exceeded 120 s, stopping at %ld", i);
      break;
    }
  }
  /* tail: wait for the rest, at most 10 s after the last send */
  tail_deadline = g_get_monotonic_time () + TAIL_TIMEOUT_US;
  tk = g_timeout_source_new (5);
  g_source_set_callback (tk, tick, NULL, NULL);
  g_source_attach (tk, g.ctx);
  while (B->recv_count < (guint64) j->count &&
      g_get_monotonic_time () < tail_deadline)
    g_main_context_iteration (g.ctx, TRUE);
  g_source_destroy (tk);
  g_source_unref (tk);
  j->timed_out = B->recv_count < (guint64) j->count;
  j->received = B->recv_count;
  j->t_last_recv_us = B->last_recv_us;
  g_free (buf);
}

static int
bench_throughput (long count, long size, int runs)
{
  double *tp = g_new0 (double, runs), *loss = g_new0 (double, runs);
  Pair pr;
  Pairs ps = { &pr, 1 };
  connect_pairs (&ps, PHASE_TIMEOUT_S);
  for (int r = 0; r < runs; r++) {
    TpJob j = { &pr, count, size, 0, 0, 0, 0, 0, FALSE };
    on_loop (job_throughput, &j, 180.0, "throughput run");
    if (j.received > 0 && j.t_last_recv_us > j.t_first_send_us)
      tp[r] = j.received / ((j.t_last_recv_us - j.t_first_send_us) / 1e6);
    loss[r] = 100.0 * (double) (count - (long) j.received) / count;
    LOG ("throughput run %d: sent_ok=%" G_GUINT64_FORMAT " send_err=%"
        G_GUINT64_FORMAT " received=%" G_GUINT64_FORMAT "%s", r + 1,
        j.sent_ok, j.send_err, j.received, j.timed_out ? " (tail timeout)" : "");
    emit_run ("throughput", r + 1, tp[r], "dgram/s");
    emit_run ("throughput-loss", r + 1, loss[r], "%");
  }
  emit_summary ("throughput", tp, runs, "dgram/s");
  emit_summary ("throughput-loss", loss, runs, "%");
  close_pairs (&ps, PHASE_TIMEOUT_S);
  g_free (tp);
  g_free (loss);
  return 0;
}

static int
bench_udp (long count, long size, int runs)
{
  double *tp = g_new0 (double, runs), *loss = g_new0 (double, runs);
  struct sockaddr_in a = { 0 }, b = { 0 };
  socklen_t alen = sizeof a;
  int sa = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int sb = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  char *buf = g_malloc (size), *rbuf = g_malloc (65536);

  a.sin_family = b.sin_family = AF_INET;
  a.sin_addr.s_addr = b.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (sa < 0 || sb < 0 || bind (sa, (struct sockaddr *) &a, sizeof a) < 0 ||
      bind (sb, (struct sockaddr *) &b, sizeof b) < 0 ||
      getsockname (sb, (struct sockaddr *) &b, &alen) < 0 ||
      connect (sa, (struct sockaddr *) &b, sizeof b) < 0) {
    LOG ("ERROR: udp socket setup: %s", strerror (errno));
    return 1;
  }
  memset (buf, 0x5a, size);
  for (int r = 0; r < runs; r++) {
    long i = 0, received = 0, send_err = 0;
    gint64 t0, t_last = 0, tail_deadline;
    t0 = g_get_monotonic_time ();
    while (i < count) {
      int k, it = 0;
      for (k = 0; k < BATCH && i < count; k++, i++)
        if (send (sa, buf, size, 0) != size) send_err++;
      while (it++ < DRAIN_MAX_ITER && recv (sb, rbuf, 65536, 0) >= 0) {
        received++;
        t_last = g_get_monotonic_time ();
      }
    }
    tail_deadline = g_get_monotonic_time () + TAIL_TIMEOUT_US;
    while (received < count && g_get_monotonic_time () < tail_deadline) {
      if (recv (sb, rbuf, 65536, 0) >= 0) {
        received++;
        t_last = g_get_monotonic_time ();
      } else {
        g_usleep (1000);
      }
    }
    if (received > 0 && t_last > t0)
      tp[r] = received / ((t_last - t0) / 1e6);
    loss[r] = 100.0 * (double) (count - received) / count;
    LOG ("udp run %d: send_err=%ld received=%ld", r + 1, send_err, received);
    emit_run ("throughput-udp", r + 1, tp[r], "dgram/s");
    emit_run ("throughput-udp-loss", r + 1, loss[r], "%");
  }
  emit_summary ("throughput-udp", tp, runs, "dgram/s");
  emit_summary ("throughput-udp-loss", loss, runs, "%");
  close (sa);
  close (sb);
  g_free (buf);
  g_free (rbuf);
  g_free (tp);
  g_free (loss);
  return 0;
}

static int
bench_scale (int n)
{
  Pairs ps = { g_new (Pair, n), n };
  double timeout_s = PHASE_TIMEOUT_S + 0.02 * n;
  long rss0, rss1, fds0 = fd_count ();
  struct rlimit rl;
  double t_ms, kb;

  /* libnice 0.1.21 uses 2 fds per single-component UDP agent on one
   * address: the UDP socket + the component's GCancellable eventfd.
   * GLib aborts (g_error) when it cannot create an eventfd, so refuse
   * up front instead of crashing half-way. */
  getrlimit (RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur != RLIM_INFINITY &&
      (rlim_t) (fds0 + FDS_PER_PAIR * n + 32) > rl.rlim_cur) {
    struct rlimit want = rl;
    want.rlim_cur = fds0 + FDS_PER_PAIR * n + 32;
    if (want.rlim_max < want.rlim_cur)
      want.rlim_max = want.rlim_cur;
    if (setrlimit (RLIMIT_NOFILE, &want) == 0) {
      LOG ("raised RLIMIT_NOFILE to %lu", (unsigned long) want.rlim_cur);
    } else {
      LOG ("ERROR: %d pairs (%d agents) need about %ld fds (%d per pair) but "
          "RLIMIT_NOFILE hard limit is %lu (raising it failed: %s); "
          "max pairs here is about %ld",
          n, 2 * n, (long) want.rlim_cur, FDS_PER_PAIR,
          (unsigned long) rl.rlim_max, strerror (errno),
          ((long) rl.rlim_cur - fds0 - 32) / FDS_PER_PAIR);
      g_free (ps.pairs);
      return 5;
    }
  }
  rss0 = rss_kb ();
  reset_counters ();
  on_loop (job_create, &ps, timeout_s, "agent creation");
  wait_count (&g.n_gathered, 2 * n, timeout_s, "candidate-gathering-done");
  LOG ("scale: %d pairs gathered, fds=%ld, starting checks", n, fd_count ());
  on_loop (job_start, &ps, timeout_s, "start of checks");
  wait_count (&g.n_ready, 2 * n, timeout_s, "all components READY");
  rss1 = rss_kb ();
  {
    gint64 t_start = ps.pairs[0].t_start_us;
    g_mutex_lock (&g.m);
    t_ms = us_to_ms (g.t_last_ready_us - t_start);
    g_mutex_unlock (&g.m);
  }
  kb = (double) (rss1 - rss0) / n;
  LOG ("scale: rss before=%ld KB after=%ld KB", rss0, rss1);
  emit_run ("scale-time", 1, t_ms, "ms");
  emit_run ("scale-memory", 1, kb, "KB/pair");
  emit_summary ("scale-time", &t_ms, 1, "ms");
  emit_summary ("scale-memory", &kb, 1, "KB/pair");
  close_pairs (&ps, timeout_s);
  g_free (ps.pairs);
  return 0;
}

static int
bench_churn (int cycles)
{
  long thr0 = thread_count (), fds0 = fd_count (), rss10 = -1, rss_end;
  double d_rss, d_thr, d_fds;
  Pair pr;
  Pairs ps = { &pr, 1 };

  log_threads_fds ("churn before");
  for (int c = 1; c <= cycles; c++) {
    connect_pairs (&ps, PHASE_TIMEOUT_S);
    close_pairs (&ps, PHASE_TIMEOUT_S);
    if (c == 10 || (cycles < 10 && c == 1)) {
      rss10 = rss_kb ();
      LOG ("churn: after cycle %d: rss=%ld KB threads=%ld fds=%ld", c, rss10,
          thread_count (), fd_count ());
    }
    if (c % 100 == 0)
      LOG ("churn: %d/%d cycles, rss=%ld KB", c, cycles, rss_kb ());
  }
  rss_end = rss_kb ();
  log_threads_fds ("churn after");
  d_rss = rss_end - rss10;
  d_thr = thread_count () - thr0;
  d_fds = fd_count () - fds0;
  LOG ("churn: rss@10=%ld KB end=%ld KB threads %ld->%ld fds %ld->%ld",
      rss10, rss_end, thr0, thread_count (), fds0, fd_count ());
  emit_run ("churn-memory", 1, d_rss, "KB");
  emit_run ("churn-threads", 1, d_thr, "threads");
  emit_run ("churn-fds", 1, d_fds, "fds");
  emit_summary ("churn-memory", &d_rss, 1, "KB");
  emit_summary ("churn-threads", &d_thr, 1, "threads");
  emit_summary ("churn-fds", &d_fds, 1, "fds");
  return 0;
}

/* ------------------------------------------------------------------ main */

static long
arg_long (int argc, char **argv, int idx, long def, long min, long max)
{
  char *end;
  long v;
  if (idx >= argc)
    return def;
  errno = 0;
  v = strtol (argv[idx], &end, 10);
  if (errno || *end || v < min || v > max) {
    LOG ("ERROR: bad argument '%s' (expected %ld..%ld)", argv[idx], min, max);
    exit (64);
  }
  return v;
}

static void
usage (void)
{
  fprintf (stderr,
      "usage: nice-bench connect [runs=20]\n"
      "       nice-bench throughput [count=200000] [size=1200] [runs=5]\n"
      "       nice-bench udp [count=200000] [size=1200] [runs=5]\n"
      "       nice-bench scale [pairs=500]\n"
      "       nice-bench churn [cycles=1000]\n");
}

int
main (int argc, char **argv)
{
  struct rlimit rl;
  const char *cmd;
  int rc;

  if (argc < 2) {
    usage ();
    return 64;
  }
  cmd = argv[1];

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit (RLIMIT_NOFILE, &rl) != 0)
      LOG ("WARNING: cannot raise RLIMIT_NOFILE: %s", strerror (errno));
  }
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0)
    LOG ("RLIMIT_NOFILE soft=%lu hard=%lu", (unsigned long) rl.rlim_cur,
        (unsigned long) rl.rlim_max);

  if (strcmp (cmd, "udp") == 0)
    return bench_udp (arg_long (argc, argv, 2, 200000, 1, 100000000),
        arg_long (argc, argv, 3, 1200, 1, 65000),
        (int) arg_long (argc, argv, 4, 5, 1, 100000));

  g_mutex_init (&g.m);
  g_cond_init (&g.c);
  g.ctx = g_main_context_new ();
  g.loop = g_main_loop_new (g.ctx, FALSE);
  g.thread = g_thread_new ("nice-loop", loop_thread_fn, NULL);

  if (strcmp (cmd, "connect") == 0) {
    rc = bench_connect ((int) arg_long (argc, argv, 2, 20, 1, 100000));
  } else if (strcmp (cmd, "throughput") == 0) {
    rc = bench_throughput (arg_long (argc, argv, 2, 200000, 1, 100000000),
        arg_long (argc, argv, 3, 1200, 1, 65000),
        (int) arg_long (argc, argv, 4, 5, 1, 100000));
  } else if (strcmp (cmd, "scale") == 0) {
    rc = bench_scale ((int) arg_long (argc, argv, 2, 500, 1, 1000000));
  } else if (strcmp (cmd, "churn") == 0) {
    rc = bench_churn ((int) arg_long (argc, argv, 2, 1000, 1, 100000000));
  } else {
    usage ();
    rc = 64;
  }

  g_main_loop_quit (g.loop);
  g_thread_join (g.thread);
  g_main_loop_unref (g.loop);
  g_main_context_unref (g.ctx);
  g_mutex_clear (&g.m);
  g_cond_clear (&g.c);
  return rc;
}
