import { describeEventStoreContract } from "@opsledger/store-contract";
import { type ArrayStore, createArrayStore } from "../src/array-store.ts";

describeEventStoreContract("example array store", {
  create: async () => createArrayStore(),
  tamper: async (store, streamId, seq, edit) => {
    const lines = (store as ArrayStore).lines.get(streamId) as string[];
    lines[seq - 1] = edit(lines[seq - 1] as string);
  },
});
