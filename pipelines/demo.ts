/**
 * The demo pipeline: text files → paragraphs → cleaned → word counts → top words → summary.
 * Small, real, and exercising every node kind; used by the docs and the tests.
 */
import { Pipeline } from "mathdag"
import { clean, read, summary, topWords, words } from "mathdag/nodes/demo"

export default Pipeline.make(
  "demo",
  (p) => {
    const paragraphs = p.add(read)
    const docs = p.add(clean, paragraphs)
    const counts = p.add(words, docs)
    const { top } = p.add(topWords, { words: counts })
    const { summary: totals } = p.add(summary, { docs, top })
    return { top, summary: totals }
  },
  {
    description: "Text files → paragraphs → word statistics → top words (a small tour of the engine).",
    metrics: {
      paragraphs: "SELECT count(*) FROM demo_clean",
      "top word": "SELECT word FROM demo_top_words ORDER BY count DESC, word LIMIT 1",
    },
  }
)
