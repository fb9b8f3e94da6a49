import Foundation

/// One block of memory on transparent huge pages that holds many tensors side by side.
///
/// A model's weights are streamed once per decoded token, and a matrix under 2 MiB (a
/// 768×768 Q8_0 projection is 0.6 MB) would otherwise sit on 4 KiB pages of its own, one TLB
/// entry per 4 KiB read. Packed together into one 2 MiB-aligned block marked
/// `madvise(MADV_HUGEPAGE)`, every weight is read through 2 MiB pages.
public final class TensorArena: @unchecked Sendable {
    /// The first byte of the block.
    public let base: UnsafeMutableRawPointer
    /// Bytes in the block.
    public let byteCount: Int

    /// Each tensor starts on this boundary (a cache line, and the alignment SIMD loads like).
    public static let alignment = 64

    private init(bytes: Int) {
        byteCount = max(bytes, 1)
        base = Tensor.allocate(bytes: byteCount)
    }

    deinit { base.deallocate() }

    /// Copies of `tensors`, same shapes and types, all in one new arena (which each copy keeps
    /// alive). A tensor listed twice is copied once. Those also in `interleaving` that can be
    /// (`Tensor.canInterleave`) are stored `.interleaved8`; the others keep their layout.
    public static func copies(of tensors: [Tensor], interleaving: [Tensor] = []) -> [Tensor] {
        let interleaved = Set(interleaving.filter { $0.layout == .rows && Tensor.canInterleave(shape: $0.shape, dtype: $0.dtype) }
            .map(ObjectIdentifier.init))
        var offsets: [ObjectIdentifier: Int] = [:]
        var total = 0
        for tensor in tensors where offsets[ObjectIdentifier(tensor)] == nil {
            offsets[ObjectIdentifier(tensor)] = total
            total += (tensor.byteCount + alignment - 1) / alignment * alignment
        }
        let arena = TensorArena(bytes: total)
        var made: [ObjectIdentifier: Tensor] = [:]
        return tensors.map { tensor in
            let key = ObjectIdentifier(tensor)
            if let copy = made[key] { return copy }
            let start = arena.base + (offsets[key] ?? 0)
            let layout: BlockLayout
            if interleaved.contains(key) {
                tensor.writeInterleaved(to: start)
                layout = .interleaved8
            } else {
                start.copyMemory(from: tensor.rawPointer, byteCount: tensor.byteCount)
                layout = tensor.layout
            }
            let copy = Tensor(shape: tensor.shape, dtype: tensor.dtype, borrowing: start, owner: arena, layout: layout)
            made[key] = copy
            return copy
        }
    }
}
