// Winograd's transforms: for each tile side the three matrices compute the 3-tap correlation
// exactly (up to the rounding of their Double coefficients), checked on the identity that
// defines them rather than on a convolution.
@testable import GraftBackend
import GraftIR
import Testing

@Suite struct WinogradTransformTests {
    /// F(m, 3) computes y = Aᵀ [(G g) ⊙ (Bᵀ d)] with y[i] = Σₖ g[k] d[i + k] for every g and d,
    /// so Σⱼ Aᵀ[i][j] G[j][k] Bᵀ[j][l] is 1 where l = i + k and 0 elsewhere. (The 2-D form
    /// applies each matrix on both sides, so the 1-D identity is the whole condition.)
    @Test(arguments: [2, 3, 4])
    func transformsComputeTheCorrelation(tileSide m: Int) {
        let (input, filter, output) = WinogradConvolution.transforms(tileSide: m)
        let n = m + 2
        #expect(input.count == n && input.allSatisfy { $0.count == n })
        #expect(filter.count == n && filter.allSatisfy { $0.count == 3 })
        #expect(output.count == m && output.allSatisfy { $0.count == n })
        for i in 0..<m {
            for k in 0..<3 {
                for l in 0..<n {
                    let sum = (0..<n).reduce(0.0) { $0 + output[i][$1] * filter[$1][k] * input[$1][l] }
                    #expect(abs(sum - (l == i + k ? 1 : 0)) < 1e-12, "F(\(m), 3): output \(i), tap \(k), input \(l): \(sum)")
                }
            }
        }
    }

    /// The tile side with the fewest multiplies per image (positions · tiles), the smaller on
    /// a tie; the op cases in GraftRuntimeTests run each of the three against the interpreter.
    @Test func theTileSideNeedsTheFewestMultiplies() {
        let cases: [(height: Int, width: Int, side: Int)] = [
            (28, 28, 4), (14, 14, 4), (7, 7, 4), (7, 9, 4), (10, 10, 4), (14, 13, 4),
            (6, 5, 3), (5, 5, 3), (2, 2, 2), (1, 1, 2), (1, 40, 2),
        ]
        for (height, width, side) in cases {
            #expect(WinogradConvolution.tileSide(height: height, width: width) == side, "\(height)×\(width)")
        }
    }

    /// A form takes as many whole images as fit in 32 product rows, at least one.
    @Test func aProductTakesWholeImages() throws {
        func form(_ size: Int) throws -> WinogradConvolution {
            let geometry = ConvolutionGeometry(input: [4, 16, size, size], filter: [16, 16, 3, 3], stride: [1, 1], padding: [1, 1])
            return try #require(WinogradConvolution.of(.forward, geometry: geometry))
        }
        #expect(try form(28).images == 1)   // 49 tiles
        #expect(try form(14).images == 2)   // 16 tiles
        #expect(try form(7).images == 8)    // 4 tiles
        #expect(try form(7).rows == 32)
    }
}
