// ModelsCommand: `graft models` lists the declared models.

import Graft
import ArgumentParser

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "List the declared models.")

    func run() throws {
        let width = ModelCatalog.all.map(\.name.count).max() ?? 0
        for model in ModelCatalog.all {
            let name = model.name.padding(toLength: width, withPad: " ", startingAt: 0)
            print("\(name)  batch \(model.defaultBatchSize)  \(model.summary)")
        }
    }
}
