import Foundation

/// A dense row-major float matrix, (rows, columns), as fastText's DenseMatrix. Storage is
/// a raw allocation so that training threads can update rows concurrently (Hogwild, as
/// fastText does); prediction only reads it.
final class FastTextDenseMatrix: @unchecked Sendable {
    let rows: Int
    let columns: Int
    /// (rows, columns)
    let values: UnsafeMutablePointer<Float>

    init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        values = .allocate(capacity: max(rows * columns, 1))
        values.initialize(repeating: 0, count: max(rows * columns, 1))
    }

    convenience init(rows: Int, columns: Int, values source: [Float]) {
        self.init(rows: rows, columns: columns)
        source.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { values.update(from: base, count: min(buffer.count, rows * columns)) }
        }
    }

    deinit { values.deallocate() }

    @inline(__always) func row(_ index: Int) -> UnsafeMutablePointer<Float> { values + index * columns }

    static func read(_ reader: inout FastTextBinaryReader, name: String) throws -> FastTextDenseMatrix {
        let start = reader.offset
        let rows = try reader.int64("\(name) rows"), columns = try reader.int64("\(name) columns")
        guard rows >= 0, columns > 0, rows <= Int64(Int32.max), columns <= 1 << 20 else {
            throw reader.failure("\(name) matrix has impossible shape (\(rows), \(columns))", at: start)
        }
        let values = try reader.floats(Int(rows * columns), "\(name) values")
        return FastTextDenseMatrix(rows: Int(rows), columns: Int(columns), values: values)
    }

    func write(_ writer: inout FastTextBinaryWriter) {
        writer.int64(Int64(rows))
        writer.int64(Int64(columns))
        writer.floats(UnsafeBufferPointer(start: values, count: rows * columns))
    }
}

/// fastText's ProductQuantizer: each row split into `subquantizerCount` slices of `subDimension`
/// values (the last of `lastSubDimension`), each slice replaced by one of 256 centroids.
struct FastTextProductQuantizer: Sendable {
    static let centroidCount = 256
    let dimension: Int
    let subquantizerCount: Int
    let subDimension: Int
    let lastSubDimension: Int
    /// (dimension * 256): slice m's centroid c starts at m * 256 * subDimension + c * width(m).
    let centroids: [Float]

    @inline(__always) func centroidStart(_ slice: Int, _ code: UInt8) -> Int {
        if slice == subquantizerCount - 1 {
            return slice * Self.centroidCount * subDimension + Int(code) * lastSubDimension
        }
        return (slice * Self.centroidCount + Int(code)) * subDimension
    }

    static func read(_ reader: inout FastTextBinaryReader, name: String) throws -> FastTextProductQuantizer {
        let start = reader.offset
        let dimension = Int(try reader.int32("\(name) quantizer dim"))
        let count = Int(try reader.int32("\(name) quantizer nsubq"))
        let sub = Int(try reader.int32("\(name) quantizer dsub"))
        let last = Int(try reader.int32("\(name) quantizer lastdsub"))
        guard dimension > 0, sub > 0, last > 0, last <= sub, count == (dimension + sub - 1) / sub,
              (count - 1) * sub + last == dimension else {
            throw reader.failure("\(name) product quantizer has inconsistent sizes dim \(dimension), nsubq \(count), "
                                 + "dsub \(sub), lastdsub \(last)", at: start)
        }
        let centroids = try reader.floats(dimension * centroidCount, "\(name) quantizer centroids")
        return FastTextProductQuantizer(dimension: dimension, subquantizerCount: count, subDimension: sub,
                                        lastSubDimension: last, centroids: centroids)
    }
}

/// fastText's QuantMatrix: rows stored as product-quantizer codes, optionally with their
/// norms quantized separately (qnorm).
struct FastTextQuantizedMatrix: Sendable {
    let rows: Int
    let columns: Int
    /// (rows, subquantizerCount)
    let codes: [UInt8]
    let quantizer: FastTextProductQuantizer
    /// (rows) codes into `normQuantizer`, when norms are quantized.
    let normCodes: [UInt8]?
    let normQuantizer: FastTextProductQuantizer?

    @inline(__always) func norm(_ row: Int) -> Float {
        guard let normCodes, let normQuantizer else { return 1 }
        return normQuantizer.centroids[normQuantizer.centroidStart(0, normCodes[row])]
    }

    static func read(_ reader: inout FastTextBinaryReader, name: String) throws -> FastTextQuantizedMatrix {
        let start = reader.offset
        let qnorm = try reader.bool("\(name) qnorm flag")
        let rows = try reader.int64("\(name) rows"), columns = try reader.int64("\(name) columns")
        let codeSize = Int(try reader.int32("\(name) codesize"))
        guard rows > 0, columns > 0, rows <= Int64(Int32.max), columns <= 1 << 20, codeSize >= 0 else {
            throw reader.failure("\(name) quantized matrix has impossible shape (\(rows), \(columns))", at: start)
        }
        let codes = try reader.bytes(codeSize, "\(name) codes")
        let quantizer = try FastTextProductQuantizer.read(&reader, name: name)
        guard quantizer.dimension == columns, codeSize == Int(rows) * quantizer.subquantizerCount else {
            throw reader.failure("\(name) quantized matrix: codesize \(codeSize) and quantizer dim "
                                 + "\(quantizer.dimension) do not fit shape (\(rows), \(columns))", at: start)
        }
        var normCodes: [UInt8]?, normQuantizer: FastTextProductQuantizer?
        if qnorm {
            normCodes = try reader.bytes(Int(rows), "\(name) norm codes")
            let norms = try FastTextProductQuantizer.read(&reader, name: "\(name) norm")
            guard norms.dimension == 1, norms.subquantizerCount == 1 else {
                throw reader.failure("\(name) norm quantizer has dim \(norms.dimension), expected 1", at: start)
            }
            normQuantizer = norms
        }
        return FastTextQuantizedMatrix(rows: Int(rows), columns: Int(columns), codes: codes, quantizer: quantizer,
                                       normCodes: normCodes, normQuantizer: normQuantizer)
    }
}

/// Either kind of matrix, with the two operations prediction needs.
enum FastTextMatrix: @unchecked Sendable {
    case dense(FastTextDenseMatrix)
    case quantized(FastTextQuantizedMatrix)

    var rows: Int {
        switch self {
        case let .dense(matrix): return matrix.rows
        case let .quantized(matrix): return matrix.rows
        }
    }

    var columns: Int {
        switch self {
        case let .dense(matrix): return matrix.columns
        case let .quantized(matrix): return matrix.columns
        }
    }

    /// `vector` = mean of the given rows (fastText averageRowsToVector: sum in row order, then
    /// multiply by the float of 1 / count).
    func average(rows indices: [Int32], into vector: UnsafeMutablePointer<Float>) {
        let width = columns
        vector.update(repeating: 0, count: width)
        switch self {
        case let .dense(matrix):
            for index in indices {
                let row = matrix.row(Int(index))
                for j in 0..<width { vector[j] += row[j] }
            }
        case let .quantized(matrix):
            let quantizer = matrix.quantizer
            let count = quantizer.subquantizerCount
            matrix.codes.withUnsafeBufferPointer { codes in
                quantizer.centroids.withUnsafeBufferPointer { centroids in
                    for index in indices {
                        let row = Int(index)
                        let norm = matrix.norm(row)
                        for slice in 0..<count {
                            let start = quantizer.centroidStart(slice, codes[row * count + slice])
                            let width = slice == count - 1 ? quantizer.lastSubDimension : quantizer.subDimension
                            let offset = slice * quantizer.subDimension
                            for n in 0..<width { vector[offset + n] += norm * centroids[start + n] }
                        }
                    }
                }
            }
        }
        let scale = Float(1.0 / Double(indices.count))
        for j in 0..<width { vector[j] *= scale }
    }

    /// Row `index` · `vector`, summed in column order as fastText does.
    @inline(__always)
    func dot(row index: Int, _ vector: UnsafePointer<Float>) -> Float {
        switch self {
        case let .dense(matrix):
            let row = matrix.row(index)
            var sum: Float = 0
            for j in 0..<matrix.columns { sum += row[j] * vector[j] }
            return sum
        case let .quantized(matrix):
            let quantizer = matrix.quantizer
            let count = quantizer.subquantizerCount
            var sum: Float = 0
            for slice in 0..<count {
                let start = quantizer.centroidStart(slice, matrix.codes[index * count + slice])
                let width = slice == count - 1 ? quantizer.lastSubDimension : quantizer.subDimension
                let offset = slice * quantizer.subDimension
                for n in 0..<width { sum += vector[offset + n] * quantizer.centroids[start + n] }
            }
            return sum * matrix.norm(index)
        }
    }
}
