import Foundation
import LlamaCore

extension FastTextModel {
    /// Writes the model as a fastText 0.9.2 `.bin` file (atomically), readable by fastText's
    /// `load_model`. Only models with dense matrices (trained here, or loaded from `.bin`) can
    /// be written.
    public func save(to destination: String) throws {
        guard case let .dense(inputMatrix) = input, case let .dense(outputMatrix) = output else {
            throw DataError.invalidFastTextModel(path: destination, offset: 0,
                                                 reason: "writing quantized (.ftz) models is not supported")
        }
        var writer = FastTextBinaryWriter()
        writer.int32(Self.magic)
        writer.int32(Self.version)
        args.write(&writer)
        writer.int32(Int32(dictionary.entryCount))
        writer.int32(Int32(dictionary.wordCount))
        writer.int32(Int32(dictionary.labelCount))
        writer.int64(dictionary.tokenCount)
        writer.int64(dictionary.pruneIndex == nil ? -1 : Int64(dictionary.pruneOrder.count))
        for index in 0..<dictionary.entryCount {
            writer.cString(dictionary.entry(index))
            writer.int64(dictionary.counts[index])
            writer.byte(dictionary.types[index])
        }
        for (bucket, row) in dictionary.pruneOrder {
            writer.int32(bucket)
            writer.int32(row)
        }
        writer.bool(false)
        inputMatrix.write(&writer)
        writer.bool(false)
        outputMatrix.write(&writer)
        try AtomicFile.write(path: destination, data: writer.data)
    }
}
