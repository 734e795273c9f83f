// CNice: the C surface NiceICE uses from libnice 0.1.21 and GLib 2.74.
//
// Swift imports most of libnice directly. This header adds only what Swift cannot import or
// cannot call safely; each shim says why it exists. Nothing here holds state.
#ifndef CNICE_SHIM_H
#define CNICE_SHIM_H

#include <glib.h>
#include <glib-object.h>
#include <nice/agent.h>
#include <nice/interfaces.h>
// Why: libnice reports no TURN allocation errors, so TurnProbe (LibNice+Stun.swift) talks to the
// TURN server itself with libnice's bundled STUN library (stunagent.h, stunmessage.h, turn.h).
#include <stun/usages/turn.h>
// Why: the hostile-peer tests (security review F6) send authenticated RFC 8445 connectivity checks
// from many source ports; LibNice+IceCheck.swift builds them with libnice's own ICE STUN usage.
#include <stun/usages/ice.h>
#include <sys/syscall.h>
#include <unistd.h>

// MARK: - Typed signal connections
//
// Why: `g_signal_connect` and `G_CALLBACK` are function-like macros (not imported), and
// `g_signal_connect_data` takes an untyped `GCallback`. Casting a Swift `@convention(c)` value
// to `GCallback` would let a wrong signature compile silently. Each shim below names one signal
// and takes the exact handler type libnice's marshaller calls, so the C compiler checks the cast.
// `destroy` releases `data` when the handler is disconnected or the agent is finalized.

typedef void (*cnice_state_changed_cb)(NiceAgent *agent, guint stream_id, guint component_id,
                                       guint state, gpointer data);
typedef void (*cnice_candidate_cb)(NiceAgent *agent, NiceCandidate *candidate, gpointer data);
typedef void (*cnice_gathering_done_cb)(NiceAgent *agent, guint stream_id, gpointer data);
typedef void (*cnice_selected_pair_cb)(NiceAgent *agent, guint stream_id, guint component_id,
                                       NiceCandidate *local, NiceCandidate *remote, gpointer data);

/// "component-state-changed" (NiceComponentState arrives as a plain guint).
static inline gulong cnice_connect_state_changed(NiceAgent *agent, cnice_state_changed_cb cb,
                                                 gpointer data, GClosureNotify destroy) {
    return g_signal_connect_data(agent, "component-state-changed", G_CALLBACK(cb), data, destroy,
                                 (GConnectFlags)0);
}

/// "new-candidate-full": a local candidate (borrowed; copy before keeping).
static inline gulong cnice_connect_new_candidate(NiceAgent *agent, cnice_candidate_cb cb,
                                                 gpointer data, GClosureNotify destroy) {
    return g_signal_connect_data(agent, "new-candidate-full", G_CALLBACK(cb), data, destroy,
                                 (GConnectFlags)0);
}

/// "new-remote-candidate-full": a peer-reflexive remote candidate learned from a check.
static inline gulong cnice_connect_new_remote_candidate(NiceAgent *agent, cnice_candidate_cb cb,
                                                        gpointer data, GClosureNotify destroy) {
    return g_signal_connect_data(agent, "new-remote-candidate-full", G_CALLBACK(cb), data, destroy,
                                 (GConnectFlags)0);
}

/// "candidate-gathering-done": local gathering finished for one stream.
static inline gulong cnice_connect_gathering_done(NiceAgent *agent, cnice_gathering_done_cb cb,
                                                  gpointer data, GClosureNotify destroy) {
    return g_signal_connect_data(agent, "candidate-gathering-done", G_CALLBACK(cb), data, destroy,
                                 (GConnectFlags)0);
}

/// "new-selected-pair-full": a nominated pair became the selected pair (queued before CONNECTED).
static inline gulong cnice_connect_selected_pair(NiceAgent *agent, cnice_selected_pair_cb cb,
                                                 gpointer data, GClosureNotify destroy) {
    return g_signal_connect_data(agent, "new-selected-pair-full", G_CALLBACK(cb), data, destroy,
                                 (GConnectFlags)0);
}

// MARK: - Agent properties
//
// Why: `g_object_set` / `g_object_get` are variadic and Swift does not import C variadic
// functions. One shim per value type keeps the property name checked by GLib at runtime
// (an unknown name logs a GLib warning) while the value type is checked here at compile time.

/// Sets a gboolean property ("controlling-mode", "upnp", "ice-tcp", "ice-udp", "ice-trickle", …).
static inline void cnice_agent_set_bool(NiceAgent *agent, const gchar *name, gboolean value) {
    g_object_set(agent, name, value, NULL);
}

/// Sets a guint property ("stun-server-port", "idle-timeout", "stun-max-retransmissions", …).
static inline void cnice_agent_set_uint(NiceAgent *agent, const gchar *name, guint value) {
    g_object_set(agent, name, value, NULL);
}

/// Sets a string property ("stun-server").
static inline void cnice_agent_set_string(NiceAgent *agent, const gchar *name, const gchar *value) {
    g_object_set(agent, name, value, NULL);
}

/// Reads a gboolean property ("controlling-mode" after a role conflict).
static inline gboolean cnice_agent_get_bool(NiceAgent *agent, const gchar *name) {
    gboolean value = FALSE;
    g_object_get(agent, name, &value, NULL);
    return value;
}

// MARK: - Small helpers

/// Why: `g_slist_free_full(list, nice_candidate_free)` does not type-check from Swift
/// (`NiceCandidate *` vs `gpointer` destroy notify); this frees a candidate list in one call.
static inline void cnice_candidate_list_free(GSList *list) {
    g_slist_free_full(list, (GDestroyNotify)nice_candidate_free);
}


/// Why: setns(2) and CLONE_NEWNET are declared only under _GNU_SOURCE, which Swift's Glibc module
/// does not define; this calls the system call directly so a NiceContext thread can join a network
/// namespace. Returns 0 or -1 with errno set.
static inline int cnice_join_network_namespace(int fd) {
    return (int)syscall(SYS_setns, fd, 0x40000000 /* CLONE_NEWNET */);
}

/// Why: pthread_setname_np is declared only under _GNU_SOURCE (not defined for Swift's Glibc
/// module) and Foundation's Thread.name does not reach the kernel on Linux; this names the calling
/// thread (`comm`, 15 bytes) so NiceICE's threads show up in top -H, gdb and /proc.
static inline void cnice_name_current_thread(const char *name) {
    char buffer[16];
    g_strlcpy(buffer, name, sizeof buffer);
    pthread_setname_np(pthread_self(), buffer);
}

#endif
