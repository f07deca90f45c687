// Tests that shape errors are reported at trace time at the line of model code that caused them.

import Testing
import GraftDSL

/// A layer whose own operator (`+`) mixes incompatible shapes: operators cannot capture their
/// call site, so the error must point at the line that called the layer.
struct MismatchedResidual: Layer {
    func forward(_ x: Tensor) -> Tensor {
        x + x.sum(axes: [1])
    }
}

/// The diagnostic `body` throws, if any. (Not a `#require(throws:)` closure: inside a macro's
/// argument, `#line` defaults take the macro's line, not the line of the call.)
func diagnostic(_ body: () throws -> Void) -> Diagnostic? {
    do { try body() } catch let error as Diagnostic { return error } catch {}
    return nil
}

@Suite struct LocatedErrorTests {
    @Test func matmulShapeErrorNamesTheCallingLine() throws {
        let line = #line + 5
        let thrown = diagnostic {
            _ = try trace("bad") { g in
                let x = g.input("x", shape: [256, 512])
                let w = g.input("w", shape: [256, 128])
                return [matmul(x, w)]
            }
        }
        let error = try #require(thrown)
        #expect(error.description == "Tests/GraftTests/LocatedErrorTests.swift:\(line): error: matmul: inner dimensions differ (f32[256,512] × f32[256,128])")
    }

    @Test func layerInternalErrorNamesTheLayerCall() throws {
        let line = #line + 5
        let thrown = diagnostic {
            _ = try trace("bad") { g in
                let x = g.input("x", shape: [8, 4])
                let fc = Linear(g.scope("fc"), inputSize: 5, outputSize: 2)
                return [fc(x)]
            }
        }
        let error = try #require(thrown)
        #expect(error.location == SourceLocation(file: "Tests/GraftTests/LocatedErrorTests.swift", line: line))
        #expect(error.message.hasPrefix("matmul: inner dimensions differ"))
    }

    @Test func operatorErrorInheritsTheEnclosingLayerCall() throws {
        let line = #line + 3
        let thrown = diagnostic {
            _ = try trace("bad") { g in
                [MismatchedResidual()(g.input("x", shape: [8, 4]))]
            }
        }
        let error = try #require(thrown)
        #expect(error.location == SourceLocation(file: "Tests/GraftTests/LocatedErrorTests.swift", line: line))
        #expect(error.message == "add: shapes f32[8,4] and f32[8] cannot be broadcast together")
    }

    @Test func onlyTheFirstErrorIsReported() throws {
        let line = #line + 4
        let thrown = diagnostic {
            _ = try trace("bad") { g in
                let x = g.input("x", shape: [2, 3])
                let y = x.reshaped([4, 2])
                return [matmul(y, y)]
            }
        }
        let error = try #require(thrown)
        #expect(error.location?.line == line)
        #expect(error.message.contains("reshape"))
    }

    @Test func duplicateNamesAreRejected() throws {
        let thrown = diagnostic {
            _ = try trace("bad") { g in
                let x = g.input("x", shape: [2, 3])
                let a = Linear(g.scope("fc"), inputSize: 3, outputSize: 3)
                let b = Linear(g.scope("fc"), inputSize: 3, outputSize: 3)
                return [b(a(x))]
            }
        }
        let error = try #require(thrown)
        #expect(error.message == "'fc.weight' is declared twice; give each layer its own scope name")
    }
}
