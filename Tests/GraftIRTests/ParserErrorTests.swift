// ParserErrorTests: malformed IR text gives one located error at the offending token, never a crash.

import Testing
import GraftIR

/// Header line shared by most cases: two inputs of transposed shapes.
private let header = "graph @g(%x: f32[2,3], %y: f32[3,2]) -> (f32[2,3]) {"

/// A malformed text, the line and column of the token at fault, and a key phrase of the message.
struct BadText: Sendable, CustomTestStringConvertible {
    var name: String
    var text: String
    var line: Int
    var column: Int
    var phrase: String
    var testDescription: String { name }
}

private func bad(_ name: String, _ text: String, _ line: Int, _ column: Int, _ phrase: String) -> BadText {
    BadText(name: name, text: text, line: line, column: column, phrase: phrase)
}

let badTexts: [BadText] = [
    // Tokens
    bad("bad character", lines(header, "  %0 = neg($x) : f32[2,3]", "  return %0 : f32[2,3]", "}"),
        2, 12, "unexpected character '$'"),
    bad("non-ASCII character", lines(header, "  %0 = neg(%x) : f32[2,3] ÷", "  return %0 : f32[2,3]", "}"),
        2, 27, "unexpected character"),
    bad("sigil without a name", lines(header, "  %0 = neg(% x) : f32[2,3]", "  return %0 : f32[2,3]", "}"),
        2, 12, "expected a name after '%'"),
    bad("malformed number", lines(header, "  %0 = constant() {value = 1.2.3} : f32[2,3]", "  return %0 : f32[2,3]", "}"),
        2, 28, "malformed number '1.2.3'"),
    bad("unterminated string", lines(header, "  %0 = neg(%x) : f32[2,3]  loc(\"model.swift:3)", "  return %0 : f32[2,3]", "}"),
        2, 32, "unterminated string"),
    bad("loc without a file name", lines(header, "  %0 = neg(%x) : f32[2,3]  loc(12)", "  return %0 : f32[2,3]", "}"),
        2, 32, "expected a quoted file name"),

    // Graph structure
    bad("no graph keyword", lines("grph @g() -> () {", "  return", "}"), 1, 1, "expected 'graph'"),
    bad("graph without a name", lines("graph g() -> () {", "  return", "}"), 1, 7, "expected the graph's name"),
    bad("missing arrow", lines("graph @g() (f32[]) {", "  return", "}"), 1, 12, "expected '->'"),
    bad("missing return", lines(header, "  %0 = neg(%x) : f32[2,3]", "}"), 3, 1, "expected 'return'"),
    bad("unterminated graph after return", lines(header, "  return %x : f32[2,3]"), 2, 23, "expected '}' after return, found end of file"),
    bad("unterminated graph before return", lines(header, "  %0 = neg(%x) : f32[2,3]"), 2, 26, "expected 'return' before the end of the graph"),
    bad("text after the graph", lines(header, "  return %x : f32[2,3]", "}", "graph"), 4, 1, "expected end of file"),
    bad("statement keyword misspelt", lines(header, "  asign @w, %x", "  return %x : f32[2,3]", "}"), 2, 3, "expected a statement"),

    // Types
    bad("unknown dtype", lines("graph @g(%x: f64[2]) -> () {", "  return", "}"), 1, 14, "unknown element type 'f64' (expected one of f32, i32, bool)"),
    bad("unknown dtype in a statement", lines(header, "  %0 = neg(%x) : float[2,3]", "  return %0 : f32[2,3]", "}"), 2, 18, "unknown element type 'float'"),
    bad("negative dimension", lines("graph @g(%x: f32[2,-1]) -> () {", "  return", "}"), 1, 20, "dimension sizes cannot be negative"),
    bad("fractional dimension", lines("graph @g(%x: f32[2.5]) -> () {", "  return", "}"), 1, 18, "expected a dimension size, found '2.5'"),
    bad("unclosed shape", lines("graph @g(%x: f32[2) -> () {", "  return", "}"), 1, 19, "expected ']' to close the shape"),
    bad("missing result type", lines(header, "  %0 = neg(%x)", "  return %0 : f32[2,3]", "}"), 3, 3, "expected ':' before the result type of neg"),
    bad("param must be f32", lines(header, "  param @w : i32[2]", "  return %x : f32[2,3]", "}"), 2, 9, "param: must be f32"),

    // Ops and operands
    bad("unknown op", lines(header, "  %0 = frobnicate(%x) : f32[2,3]", "  return %0 : f32[2,3]", "}"), 2, 8, "unknown op 'frobnicate'"),
    bad("unknown op with bad operands", lines(header, "  %0 = matmull(%x, %nope) {transpose_a = 1} : f32[2,3]", "  return %0 : f32[2,3]", "}"),
        2, 8, "unknown op 'matmull'"),
    bad("declared op used as a statement", lines(header, "  %0 = param() : f32[2,3]", "  return %0 : f32[2,3]", "}"), 2, 8, "param is declared, not computed"),
    bad("too few operands", lines(header, "  %0 = add(%x) : f32[2,3]", "  return %0 : f32[2,3]", "}"), 2, 8, "add: expects 2 operands, got 1"),
    bad("too many operands", lines(header, "  %0 = neg(%x, %x) : f32[2,3]", "  return %0 : f32[2,3]", "}"), 2, 8, "neg: expects 1 operand, got 2"),
    bad("select with two operands", lines(header, "  %0 = select(%x, %x) : f32[2,3]", "  return %0 : f32[2,3]", "}"), 2, 8, "select: expects 3 operands, got 2"),
    bad("constant with an operand", lines(header, "  %0 = constant(%x) {value = 1.0} : f32[2,3]", "  return %0 : f32[2,3]", "}"), 2, 8, "constant: expects 0 operands, got 1"),
    bad("concat of nothing", lines(header, "  %0 = concat() {axis = 0} : f32[2,3]", "  return %0 : f32[2,3]", "}"), 2, 8, "concat: expects at least one operand"),
    bad("operand is not a value", lines(header, "  %0 = neg(x) : f32[2,3]", "  return %0 : f32[2,3]", "}"), 2, 12, "expected an operand like %3 or @weight, found 'x'"),

    // Attributes
    bad("missing attribute", lines(header, "  %0 = reduce_sum(%x) : f32[3]", "  return %x : f32[2,3]", "}"), 2, 8, "reduce_sum: missing attribute 'axes'"),
    bad("one of two attributes missing", lines(header, "  %0 = matmul(%x, %y) {transpose_a = false} : f32[2,2]", "  return %x : f32[2,3]", "}"),
        2, 8, "matmul: missing attribute 'transpose_b'"),
    bad("list attribute given an integer", lines(header, "  %0 = reduce_sum(%x) {axes = 0} : f32[3]", "  return %x : f32[2,3]", "}"),
        2, 31, "reduce_sum: attribute 'axes' must be a list of integers"),
    bad("integer attribute given a float", lines(header, "  %0 = iota() {axis = 1.5} : i32[2]", "  return %x : f32[2,3]", "}"),
        2, 23, "iota: attribute 'axis' must be an integer"),
    bad("bool attribute given an integer", lines(header, "  %0 = matmul(%x, %y) {transpose_a = 1, transpose_b = false} : f32[2,2]", "  return %x : f32[2,3]", "}"),
        2, 38, "matmul: attribute 'transpose_a' must be true or false"),
    bad("float attribute given a bool", lines(header, "  %0 = constant() {value = true} : f32[]", "  return %x : f32[2,3]", "}"),
        2, 28, "constant: attribute 'value' must be a number"),
    bad("list of floats for integers", lines(header, "  %0 = transpose(%x) {permutation = [1.0, 0]} : f32[3,2]", "  return %x : f32[2,3]", "}"),
        2, 37, "transpose: attribute 'permutation' must be a list of integers"),
    bad("unknown attribute", lines(header, "  %0 = neg(%x) {alpha = 1} : f32[2,3]", "  return %0 : f32[2,3]", "}"), 2, 17, "neg: unknown attribute 'alpha'"),
    bad("unknown attribute beside known ones", lines(header, "  %0 = iota() {axis = 0, keep = true} : i32[2]", "  return %x : f32[2,3]", "}"),
        2, 26, "iota: unknown attribute 'keep'"),
    bad("bad compare direction", lines(header, "  %0 = compare(%x, %x) {direction = gte} : bool[2,3]", "  return %x : f32[2,3]", "}"),
        2, 37, "compare: unknown direction 'gte' (expected one of eq, ne, lt, le, gt, ge)"),
    bad("unknown all_reduce reduction", lines(header, "  %0 = all_reduce(%x) {reduction = max} : f32[2,3]", "  return %0 : f32[2,3]", "}"),
        2, 36, "all_reduce: attribute 'reduction' must be one of sum, mean, not 'max'"),
    bad("compare direction given a bool", lines(header, "  %0 = compare(%x, %x) {direction = true} : bool[2,3]", "  return %x : f32[2,3]", "}"),
        2, 37, "compare: attribute 'direction' must be a word"),
    bad("attribute given twice", lines(header, "  %0 = iota() {axis = 0, axis = 0} : i32[2]", "  return %x : f32[2,3]", "}"), 2, 26, "attribute 'axis' is given twice"),
    bad("attribute without a value", lines(header, "  %0 = iota() {axis = } : i32[2]", "  return %x : f32[2,3]", "}"), 2, 23, "expected an attribute value, found '}'"),
    bad("nested attribute list", lines(header, "  %0 = reduce_sum(%x) {axes = [[0]]} : f32[3]", "  return %x : f32[2,3]", "}"), 2, 32, "cannot be nested"),

    // Type rules
    bad("operand shapes differ", lines(header, "  %0 = add(%x, %y) : f32[2,3]", "  return %0 : f32[2,3]", "}"),
        2, 8, "add: operand shapes differ (f32[2,3] × f32[3,2]); broadcast one of them explicitly"),
    bad("operand dtypes differ", lines("graph @g(%x: f32[2], %n: i32[2]) -> () {", "  %0 = mul(%x, %n) : f32[2]", "  return", "}"),
        2, 8, "mul: operand types differ (f32[2] × i32[2])"),
    bad("declared type differs from the inferred one", lines(header, "  %0 = neg(%x) : f32[3,2]", "  return %0 : f32[2,3]", "}"),
        2, 18, "neg: result type is f32[2,3], but the statement says f32[3,2]"),
    bad("declared dtype differs from the inferred one", lines(header, "  %0 = compare(%x, %x) {direction = lt} : f32[2,3]", "  return %0 : f32[2,3]", "}"),
        2, 43, "compare: result type is bool[2,3], but the statement says f32[2,3]"),
    bad("reshape changes the element count", lines(header, "  %0 = reshape(%x) : f32[7]", "  return %x : f32[2,3]", "}"),
        2, 8, "reshape: cannot reshape f32[2,3] to f32[7]"),
    bad("conv2d on a matrix", lines(header, "  %0 = conv2d(%x, %y) {padding = [0, 0], stride = [1, 1]} : f32[2,3]", "  return %x : f32[2,3]", "}"),
        2, 8, "conv2d: expects an f32 NCHW input and an f32 OIHW filter"),
    bad("max_pool2d window larger than the input", lines("graph @g(%x: f32[1,1,2,2]) -> () {",
                                                         "  %0 = max_pool2d(%x) {padding = [0, 0], stride = [1, 1], window = [3, 3]} : f32[1,1,1,1]", "  return", "}"),
        2, 8, "max_pool2d: the 3×3 window is larger than the 2×2 input padded by [0, 0] (f32[1,1,2,2])"),
    bad("avg_pool2d stride 0", lines("graph @g(%x: f32[1,1,4,4]) -> () {",
                                     "  %0 = avg_pool2d(%x) {padding = [0, 0], stride = [0, 2], window = [2, 2]} : f32[1,1,2,2]", "  return", "}"),
        2, 8, "avg_pool2d: stride [0, 2] must be positive"),

    // Names
    bad("use before definition", lines(header, "  %0 = neg(%1) : f32[2,3]", "  %1 = neg(%x) : f32[2,3]", "  return %0 : f32[2,3]", "}"),
        2, 12, "use of %1 before its definition"),
    bad("undeclared param", lines(header, "  %0 = add(%x, @w) : f32[2,3]", "  return %0 : f32[2,3]", "}"), 2, 16, "use of @w before its definition"),
    bad("param used before its declaration", lines(header, "  %0 = add(%x, @w) : f32[2,3]", "  param @w : f32[2,3]", "  return %0 : f32[2,3]", "}"),
        2, 16, "use of @w before its definition"),
    bad("return of an undefined value", lines(header, "  return %5 : f32[2,3]", "}"), 2, 10, "use of %5 before its definition"),
    bad("duplicate computed value", lines(header, "  %0 = neg(%x) : f32[2,3]", "  %0 = abs(%x) : f32[2,3]", "  return %0 : f32[2,3]", "}"),
        3, 3, "duplicate definition of %0"),
    bad("computed value shadows an input", lines(header, "  %x = neg(%x) : f32[2,3]", "  return %x : f32[2,3]", "}"), 2, 3, "duplicate definition of %x"),
    bad("duplicate input", lines("graph @g(%x: f32[2], %x: f32[2]) -> () {", "  return", "}"), 1, 22, "duplicate definition of %x"),
    bad("duplicate param", lines(header, "  param @w : f32[2] {init = zeros, role = weight}", "  param @w : f32[2]", "  return %x : f32[2,3]", "}"), 3, 9, "duplicate definition of @w"),
    bad("state named like a param", lines(header, "  param @w : f32[2] {init = zeros, role = weight}", "  state @w : f32[2]", "  return %x : f32[2,3]", "}"), 3, 9, "duplicate definition of @w"),
    bad("param named like an input", lines(header, "  param @x : f32[2,3]", "  return %x : f32[2,3]", "}"), 2, 9, "'x' is already declared"),
    bad("numeric input name", lines("graph @g(%0: f32[2]) -> (f32[2]) {", "  %1 = neg(%0) : f32[2]", "  return %1 : f32[2]", "}"),
        1, 10, "input names cannot be numbers"),

    // Assigns
    bad("assign to an input", lines(header, "  %0 = neg(%x) : f32[2,3]", "  assign %x, %0", "  return %0 : f32[2,3]", "}"),
        3, 10, "assign: %x is not a param or state"),
    bad("assign to an undeclared name", lines(header, "  assign @nope, %x", "  return %x : f32[2,3]", "}"), 2, 10, "assign: @nope is not a declared param or state"),
    bad("assign of a wrong-typed value", lines(header, "  state @s : f32[3] {init = zeros, role = statistic}", "  assign @s, %x", "  return %x : f32[2,3]", "}"),
        3, 14, "assign: @s has type f32[3] but the value has type f32[2,3]"),
    bad("assign of an undefined value", lines(header, "  state @s : f32[3] {init = zeros, role = statistic}", "  assign @s, %9", "  return %x : f32[2,3]", "}"), 3, 14, "use of %9 before its definition"),
    bad("assign twice", lines(header, "  state @s : f32[2,3] {init = zeros, role = statistic}", "  assign @s, %x", "  assign @s, %x", "  return %x : f32[2,3]", "}"),
        4, 10, "assign: @s is assigned more than once"),

    // Return
    bad("return types differ from the values", lines(header, "  return %x : f32[3,2]", "}"), 2, 15, "return: the returned values have types f32[2,3], not the types written"),
    bad("return differs from the signature", lines(header, "  return %y : f32[3,2]", "}"), 2, 3, "return: the graph's signature promises (f32[2,3]) but return gives (f32[3,2])"),
    bad("bare return in a graph with results", lines(header, "  return", "}"), 2, 3, "signature promises (f32[2,3]) but return gives ()"),
    bad("statement after return", lines(header, "  return %x : f32[2,3]", "  %0 = neg(%x) : f32[2,3]", "}"), 3, 3, "expected '}' after return"),

    // Declaration attributes: initializer, role, target, gradient output
    bad("declaration without attributes", lines(header, "  param @w : f32[2]", "  return %x : f32[2,3]", "}"),
        2, 9, "expected attributes like {init = zeros, role = weight} after the type of @w"),
    bad("unknown role", lines(header, "  param @w : f32[2] {init = zeros, role = kernel}", "  return %x : f32[2,3]", "}"),
        2, 43, "attribute 'role' must be one of weight, bias, normalization, statistic, optimizer_state, not 'kernel'"),
    bad("unknown initializer", lines(header, "  param @w : f32[2] {init = glorot, role = weight}", "  return %x : f32[2,3]", "}"),
        2, 29, "attribute 'init' must be one of zeros, ones, constant, uniform, normal"),
    bad("normal initializer without std", lines(header, "  param @w : f32[2] {init = normal, role = weight}", "  return %x : f32[2,3]", "}"),
        2, 29, "@w: param: missing attribute 'std'"),
    bad("missing role", lines(header, "  state @s : f32[2] {init = ones}", "  return %x : f32[2,3]", "}"),
        2, 29, "state: missing attribute 'role'"),
    bad("std that is not a number", lines(header, "  param @w : f32[2] {init = normal, role = weight, std = wide}", "  return %x : f32[2,3]", "}"),
        2, 58, "attribute 'std' must be a number"),
    bad("unknown declaration attribute", lines(header, "  param @w : f32[2] {init = zeros, role = weight, trainable = true}", "  return %x : f32[2,3]", "}"),
        2, 51, "unknown attribute 'trainable'"),
    bad("declaration attribute given twice", lines(header, "  param @w : f32[2] {init = zeros, init = ones, role = weight}", "  return %x : f32[2,3]", "}"),
        2, 36, "attribute 'init' is given twice"),
    bad("target_of on a param", lines(header, "  param @v : f32[2] {init = zeros, role = weight}", "  param @w : f32[2] {init = zeros, role = weight, target_of = v}", "  return %x : f32[2,3]", "}"),
        3, 51, "attribute 'target_of' is only for state"),
    bad("gradient on a state", lines(header, "  state @s : f32[2,3] {gradient = 1, init = zeros, role = statistic}", "  return %x : f32[2,3]", "}"),
        2, 24, "attribute 'gradient' is only for params"),
    bad("target_of names nothing", lines(header, "  state @t : f32[2] {init = zeros, role = weight, target_of = online.w}", "  return %x : f32[2,3]", "}"),
        2, 63, "target_of names @online.w, which is not a declared param or state"),
    bad("target_of of another type", lines(header, "  param @w : f32[3] {init = zeros, role = weight}", "  state @t : f32[2] {init = zeros, role = weight, target_of = w}", "  return %x : f32[2,3]", "}"),
        3, 63, "target_of names @w of type f32[3], but @t is f32[2]"),
    bad("target_of a target", lines(header, "  param @w : f32[2] {init = zeros, role = weight}", "  state @t : f32[2] {init = zeros, role = weight, target_of = w}", "  state @u : f32[2] {init = zeros, role = weight, target_of = t}", "  return %x : f32[2,3]", "}"),
        4, 63, "target_of names @t, which is itself a target"),
    bad("gradient names no output", lines(header, "  param @w : f32[2,3] {gradient = 1, init = zeros, role = weight}", "  return %x : f32[2,3]", "}"),
        2, 35, "gradient = 1 names no output; the graph returns 1 values and output 0 is the loss"),
    bad("gradient names the loss", lines(header, "  param @w : f32[2,3] {gradient = 0, init = zeros, role = weight}", "  return %x : f32[2,3]", "}"),
        2, 35, "gradient = 0 names no output"),
    bad("gradient of another type", lines("graph @g(%x: f32[2,3]) -> (f32[], f32[2,3], f32[2,3]) {", "  param @w : f32[2] {gradient = 1, init = zeros, role = weight}", "  %0 = reduce_sum(%x) {axes = [0, 1]} : f32[]", "  return %0, %x, %x : f32[], f32[2,3], f32[2,3]", "}"),
        2, 33, "gradient = 1 names an output of type f32[2,3], but @w is f32[2]"),
    bad("two params with one gradient output", lines("graph @g(%x: f32[2,3]) -> (f32[], f32[2,3], f32[2,3]) {", "  param @v : f32[2,3] {gradient = 2, init = zeros, role = weight}", "  param @w : f32[2,3] {gradient = 2, init = zeros, role = weight}", "  %0 = reduce_sum(%x) {axes = [0, 1]} : f32[]", "  return %0, %x, %x : f32[], f32[2,3], f32[2,3]", "}"),
        3, 35, "output 2 is already the gradient of @v"),

    // Sizes that would overflow
    bad("element count overflows", lines(header, "  %0 = reshape(%x) : f32[2147483647,2147483647,2147483647]", "  return %x : f32[2,3]", "}"), 2, 22, "too large"),
    bad("dimension too large", lines("graph @g(%x: f32[9223372036854775807]) -> () {", "  return", "}"), 1, 18, "too large"),
    bad("huge pad attribute", lines(header, "  %0 = pad(%x) {high = [9223372036854775807, 0], low = [0, 0]} : f32[2,3]", "  return %x : f32[2,3]", "}"),
        2, 25, "out of range"),
    bad("huge conv padding", lines("graph @g(%x: f32[1,1,4,4], %w: f32[1,1,3,3]) -> () {",
                                   "  %0 = conv2d(%x, %w) {padding = [4611686018427387904, 0], stride = [1, 1]} : f32[1,1,4,4]", "  return", "}"),
        2, 35, "out of range"),
]

@Suite("Parser errors")
struct ParserErrorTests {
    @Test("malformed text gives one located error", arguments: badTexts)
    func badText(_ bad: BadText) {
        expectParseError(bad.text, line: bad.line, column: bad.column, bad.phrase)
    }

    @Test("the matmul shape error reads exactly as documented")
    func matmulMessage() {
        let text = lines(
            "graph @g(%a: f32[256,512], %b: f32[256,128]) -> () {",
            "  %0 = matmul(%a, %b) {transpose_a = false, transpose_b = false} : f32[256,128]",
            "  return",
            "}"
        )
        #expect(throws: Diagnostic("matmul: inner dimensions differ (f32[256,512] × f32[256,128])",
                                   at: IRLocation(file: "byol.gir", line: 2, column: 8))) {
            try Parser.parse(text, file: "byol.gir")
        }
        do {
            _ = try Parser.parse(text, file: "byol.gir")
        } catch {
            #expect("\(error)" == "byol.gir:2:8: error: matmul: inner dimensions differ (f32[256,512] × f32[256,128])")
        }
    }

    @Test("an empty file is located at its start")
    func emptyFile() {
        expectParseError("", line: 1, column: 1, "expected 'graph', found end of file")
        expectParseError("// only a comment\n", line: 1, column: 1, "expected 'graph', found end of file")
    }

    @Test("deeply nested attribute lists are an error, not a stack overflow")
    func deepNesting() {
        let depth = 100_000
        let value = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let text = lines(header, "  %0 = reduce_sum(%x) {axes = \(value)} : f32[3]", "  return %x : f32[2,3]", "}")
        expectParseError(text, line: 2, column: 32, "cannot be nested")
    }

    /// Every prefix of a valid text, and the text with each character removed, either parses or
    /// throws a Diagnostic located in the file being read.
    @Test("damaged text never crashes and is always located in the file")
    func damagedText() {
        let source = Array(everyOpText)
        var variants: [String] = []
        for end in stride(from: 0, to: source.count, by: 3) { variants.append(String(source[..<end])) }
        for index in stride(from: 0, to: source.count, by: 2) {
            var copy = source
            copy.remove(at: index)
            variants.append(String(copy))
        }
        var failures = 0
        for text in variants {
            do {
                let graph = try Parser.parse(text, file: "file.gir")
                try Verifier.verify(graph)
            } catch let diagnostic as Diagnostic {
                guard diagnostic.location?.file == "file.gir", diagnostic.location?.column != nil,
                      diagnostic.description.hasPrefix("file.gir:") else {
                    failures += 1
                    if failures <= 5 { Issue.record("unlocated error \(diagnostic) for:\n\(text)") }
                    continue
                }
            } catch {
                Issue.record("not a Diagnostic: \(error)")
            }
        }
        #expect(failures == 0)
    }
}
