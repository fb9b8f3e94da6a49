/// What training needs from a tokenizer: text to ids and back, the vocabulary size and the
/// document boundary ids. The SentencePiece tokenizer (LlamaTokenizer) fits this shape.
public protocol TextTokenizer {
    /// Ids of `text`, without BOS or EOS.
    func encode(_ text: String) -> [Int32]
    /// Text of `ids` (BOS, EOS and other control ids are dropped).
    func decode(_ ids: [Int32]) -> String
    var vocabularySize: Int { get }
    var bosId: Int32 { get }
    var eosId: Int32 { get }
}

/// A byte-level tokenizer in SentencePiece's id layout: 0 `<unk>`, 1 `<s>` (BOS), 2 `</s>`
/// (EOS), then the 256 byte values as ids 3 ... 258 (sentencepiece's byte-fallback pieces
/// `<0x00>` ... `<0xFF>` in the same order). Lossless for any UTF-8 text.
public struct ByteTokenizer: TextTokenizer, Sendable {
    /// Id of byte 0x00.
    public static let byteOffset: Int32 = 3
    public let vocabularySize = 259
    public let bosId: Int32 = 1
    public let eosId: Int32 = 2

    public init() {}

    public func encode(_ text: String) -> [Int32] {
        text.utf8.map { Int32($0) + Self.byteOffset }
    }

    public func decode(_ ids: [Int32]) -> String {
        let bytes = ids.compactMap { id -> UInt8? in
            id >= Self.byteOffset && id < Self.byteOffset + 256 ? UInt8(id - Self.byteOffset) : nil
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
