import CMalloc

/// How glibc's allocator serves the agent's large buffers: each sandbox's rendering, shim bodies, the gzip body.
public enum HeapPolicy {
    /// Buffers of this size and larger are mapped on their own.
    public static let mappedBufferThreshold: Int32 = 64 * 1024

    /// Maps every buffer from ``mappedBufferThreshold`` up on its own instead of carving it from the heap.
    ///
    /// NIO rounds a buffer's capacity up to a power of two: of a mapped buffer only the pages written to are
    /// resident, so the unused tail costs address space, not memory, and a freed buffer goes back to the kernel
    /// at once rather than leaving heap holes the next round may not fit. glibc would raise the threshold
    /// itself (up to 32 MiB) after the first such buffer is freed; setting it keeps it. Process-wide: called
    /// once at start by the executable, like ``DescriptorLimit/raiseSoftLimit()``.
    public static func mapLargeBuffers() {
        _ = mallopt(M_MMAP_THRESHOLD, mappedBufferThreshold)
    }
}
