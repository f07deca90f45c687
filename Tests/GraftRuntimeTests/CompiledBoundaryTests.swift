// CompiledBoundaryTests: what the compiled backend refuses that the interpreter handles: empty
// tensors (a dimension of size 0). Compiling one is a located error, not a hang (a mean over no
// elements) or a trap in sgemm (lda 0), which `graft run` hit before.

import Testing
import GraftIR
import GraftRuntime

@Suite struct CompiledBoundaryTests {
    @Test(arguments: ["graph @z(%x: f32[0,3]) -> (f32[]) {\n  %1 = reduce_mean(%x) {axes = [0, 1]} : f32[]\n  return %1 : f32[]\n}\n",
                      "graph @z(%x: f32[2,0], %y: f32[0,4]) -> (f32[2,4]) {\n  %1 = matmul(%x, %y) {transpose_a = false, transpose_b = false} : f32[2,4]\n  return %1 : f32[2,4]\n}\n"])
    func compilingAnEmptyTensorIsRefused(text: String) throws {
        let graph = try Parser.parse(text, file: "empty.gir")
        #expect {
            try Executable(graph)
        } throws: { error in
            "\(error)".contains("@z: '") && "\(error)".contains("is an empty tensor") && "\(error)".contains("compiled graphs hold no empty tensors")
        }
    }
}
