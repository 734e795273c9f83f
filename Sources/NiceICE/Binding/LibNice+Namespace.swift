internal import CNice

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension LibNice {
    /// Moves the calling thread into the network namespace `/var/run/netns/<name>` (what
    /// `ip netns add <name>` creates). Sockets created on the thread afterwards live there.
    /// Returns 0 or an `errno`. Needs CAP_SYS_ADMIN.
    static func enterNetworkNamespace(_ name: String) -> Int32 {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else { return EINVAL }
        let fd = open("/var/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        return cnice_join_network_namespace(fd) == 0 ? 0 : errno
    }

    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// Names the calling thread for `top -H`, gdb and /proc (`comm`; Linux keeps 15 bytes).
    /// Foundation's `Thread.name` does not reach the kernel on Linux.
    static func nameCurrentThread(_ name: String) {
        cnice_name_current_thread(name)
    }
}
