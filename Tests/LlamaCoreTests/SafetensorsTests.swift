import Foundation
import XCTest
@testable import LlamaCore

/// safetensors reading and writing, checked against the `safetensors` Python library, and
/// every kind of corrupt file refused with a message naming the file and the problem.
final class SafetensorsTests: XCTestCase {
    /// Writes a file of an 8-byte header length, `header`, and `data`.
    private func writeRaw(_ header: String, data: [UInt8] = [], lengthOverride: UInt64? = nil) throws -> String {
        let path = try TestPaths.temporaryDirectory() + "/t.safetensors"
        var bytes = [UInt8]()
        var length = (lengthOverride ?? UInt64(header.utf8.count)).littleEndian
        withUnsafeBytes(of: &length) { bytes += $0 }
        bytes += Array(header.utf8) + data
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func assertRejected(_ path: String, mentioning fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafetensorsFile(path: path), file: file, line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(path), "message names the file: \(message)", file: file, line: line)
            XCTAssertTrue(message.contains(fragment), "message says '\(fragment)': \(message)", file: file, line: line)
        }
    }

    func testRoundTripIsReadByThePythonLibrary() throws {
        let directory = try TestPaths.temporaryDirectory()
        let path = directory + "/round.safetensors"
        let a = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, -6.5])
        let b = Tensor(zeros: [4], dtype: .i32)
        for i in 0..<4 { b.rawPointer.assumingMemoryBound(to: Int32.self)[i] = Int32(i * 10) }
        try SafetensorsWriter.write(path: path, tensors: [("layer.\"weird\" name", a), ("ids", b)], metadata: ["format": "pt"])
        let output = try runPython("""
        import sys, json
        from safetensors import safe_open
        with safe_open(sys.argv[1], 'np') as f:
            print(json.dumps({k: f.get_tensor(k).tolist() for k in f.keys()}, sort_keys=True))
            print(json.dumps(f.metadata()))
        """, [path])
        let lines = output.split(separator: "\n")
        XCTAssertEqual(lines.first.map(String.init), #"{"ids": [0, 10, 20, 30], "layer.\"weird\" name": [[1.0, 2.0, 3.0], [4.0, 5.0, -6.5]]}"#)
        XCTAssertEqual(lines.last.map(String.init), #"{"format": "pt"}"#)
        let file = try SafetensorsFile(path: path)
        XCTAssertEqual(try file.tensor("layer.\"weird\" name").toFloatArray(), [1, 2, 3, 4, 5, -6.5])
        XCTAssertEqual(try file.tensor("ids").toInt32Array(), [0, 10, 20, 30])
        XCTAssertEqual(file.dataOffset % 8, 0, "header padded to 8 bytes")
    }

    func testReadsWhatThePythonLibraryWrites() throws {
        let path = try TestPaths.temporaryDirectory() + "/py.safetensors"
        _ = try runPython("""
        import sys, numpy as np
        from safetensors.numpy import save_file
        save_file({'h': np.array([1.5, -2.25], dtype=np.float16), 'f': np.arange(6, dtype=np.float32).reshape(2, 3)}, sys.argv[1])
        """, [path])
        let file = try SafetensorsFile(path: path)
        XCTAssertEqual(file.entries["h"]?.dtype, .f16)
        XCTAssertEqual(try file.tensor("h").toFloatArray(), [1.5, -2.25])
        XCTAssertEqual(try file.tensor("f").shape, [2, 3])
        XCTAssertEqual(try file.tensor("f").toFloatArray(), [0, 1, 2, 3, 4, 5])
    }

    func testCorruptFilesAreRefusedWithTheirReason() throws {
        let entry = #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let data = [UInt8](repeating: 0, count: 8)
        assertRejected(try writeRaw(entry, data: data, lengthOverride: 1 << 20), mentioning: "runs past the end")
        assertRejected(try writeRaw("{not json", data: data), mentioning: "not valid JSON")
        assertRejected(try writeRaw(#"{"x":{"dtype":"F7","shape":[2],"data_offsets":[0,8]}}"#, data: data), mentioning: "unknown dtype 'F7'")
        assertRejected(try writeRaw(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}"#, data: data), mentioning: "out of range")
        assertRejected(try writeRaw(#"{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: data), mentioning: "needs 12")
        assertRejected(try writeRaw(#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"y":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#, data: data),
                       mentioning: "overlap")
        assertRejected(try writeRaw(#"{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: data), mentioning: "non-negative")
        assertRejected(try writeRaw(#"[1,2]"#), mentioning: "not a JSON object")
        let short = try TestPaths.temporaryDirectory() + "/short.safetensors"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: short))
        assertRejected(short, mentioning: "shorter than the 8-byte header")
        XCTAssertThrowsError(try SafetensorsFile(path: "/nonexistent/model.safetensors")) { error in
            XCTAssertEqual(error as? CoreError, .fileNotFound(path: "/nonexistent/model.safetensors"))
        }
        let valid = try SafetensorsFile(path: try writeRaw(entry, data: data))
        XCTAssertThrowsError(try valid.tensor("absent")) { error in
            XCTAssertTrue("\(error)".contains("'absent' is missing"))
        }
    }

    func testNpyIsReadByNumPy() throws {
        let path = try TestPaths.temporaryDirectory() + "/x.npy"
        let values: [Float] = [0.5, -1, 2, 3e-8, 4, 5]
        try values.withUnsafeBufferPointer { try Npy.write(path: path, values: $0, shape: [2, 3]) }
        let output = try runPython("import sys, numpy as np; a = np.load(sys.argv[1]); print(a.dtype, a.shape, a.tolist())", [path])
        XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines),
                       "float32 (2, 3) [[0.5, -1.0, 2.0], [2.999999892949745e-08, 4.0, 5.0]]")
        let read = try Npy.readFloat32(path: path)
        XCTAssertEqual(read.shape, [2, 3])
        XCTAssertEqual(read.values, values)
    }
}
