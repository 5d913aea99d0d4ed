import CSystemd

#if canImport(Glibc)
    import Glibc
#endif

/// A listening socket passed by systemd (socket activation).
public struct PassedListener: Sendable, Equatable {
    public var descriptor: CInt
    /// Its `FileDescriptorName=`, or `unknown`.
    public var name: String
}

/// A passed descriptor that cannot be served on.
public struct SocketActivationError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Socket activation: the listening sockets systemd passed (`LISTEN_FDS`/`LISTEN_PID`/`LISTEN_FDNAMES`).
public enum SystemdListeners {
    /// The passed listeners, if this process was socket-activated; the environment variables are unset so
    /// children never inherit them. Every descriptor must be a listening stream socket (TCP v4/v6 or unix).
    public static func take() throws(SocketActivationError) -> [PassedListener] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let count = sd_listen_fds_with_names(1, &names)
        defer {
            if let names {
                for index in 0..<Int(max(count, 0)) { free(names[index]) }
                free(names)
            }
        }
        guard count > 0 else {
            if count < 0 {
                throw SocketActivationError(
                    description: "invalid socket activation environment: \(String(cString: strerror(-count)))")
            }
            return []
        }
        var listeners: [PassedListener] = []
        for index in 0..<Int(count) {
            let descriptor = SD_LISTEN_FDS_START + CInt(index)
            let name = names?[index].map { String(cString: $0) } ?? "unknown"
            guard sd_is_socket(descriptor, AF_UNSPEC, CInt(SOCK_STREAM.rawValue), 1) > 0 else {
                throw SocketActivationError(
                    description: "passed file descriptor \(descriptor) (\(name)) is not a listening stream socket")
            }
            // NIO expects non-blocking descriptors; systemd passes them blocking.
            let flags = fcntl(descriptor, F_GETFL)
            _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
            listeners.append(PassedListener(descriptor: descriptor, name: name))
        }
        return listeners
    }
}
