/** mathdag/nodes/sources: generic sources (JSON Lines documents, local or hf://). */
export * from "./jsonl-docs.js"
