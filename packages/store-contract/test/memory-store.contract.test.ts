import { createMemoryEventStore } from "@opsledger/core";
import { tamperMemoryRecord } from "@opsledger/core/testing";
import { describeEventStoreContract } from "../src/index.ts";

describeEventStoreContract("memory", {
  create: async () => createMemoryEventStore(),
  tamper: async (store, streamId, seq, edit) => tamperMemoryRecord(store, streamId, seq, edit),
});
