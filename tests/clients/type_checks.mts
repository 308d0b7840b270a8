// Compiled with the walk-through by tests/clients/test_generated_clients.py, under `tsc --strict`:
// each `@ts-expect-error` line must be an error, so the generated types are as strict as they claim.
import type { components } from "./ssi-api.js";

type S = components["schemas"];
const day = "2026-01-01";

// @ts-expect-error an event in a batch has its fields
export const emptyEvent: S["BatchInRequest"] = { events: [{}] };
// @ts-expect-error an event's value is a number
export const textValue: S["EventInRequest"] = { id: "e", rep: "u", type: "post_published", occurred_at: day, value: "1" };
// @ts-expect-error a goal is for a rep or for a team, not both
export const both: S["GoalInputRequest"] = { rep: "u", team: 1, title: "t", metric: "ssi", target: 1, start_date: day, end_date: day };
// @ts-expect-error a goal is for a rep or for a team
export const neither: S["GoalInputRequest"] = { title: "t", metric: "ssi", target: 1, start_date: day, end_date: day };
// @ts-expect-error only team goals take an aggregate
export const repAggregate: S["GoalInputRequest"] = { rep: "u", aggregate: "sum", title: "t", metric: "ssi", target: 1, start_date: day, end_date: day };
// @ts-expect-error a condition's operator is one of the five
export const badOperator: S["Criteria"] = { metric: "ssi", op: "~", value: 1 };
// @ts-expect-error a condition's value is a number, at any depth
export const nested: S["Criteria"] = { any: [{ all: [{ metric: "ssi", op: ">=", value: "1" }] }] };
// @ts-expect-error read-only fields are not part of a request
export const teamWithId: S["TeamInRequest"] = { name: "EMEA", id: 3 };
// @ts-expect-error a job's kind is one of three
export const jobKind: S["Job"]["kind"] = "other";
// @ts-expect-error a goal's aggregate is closed
export const aggregate: S["Goal"]["aggregate"] = "max";

// What an answer always carries is required, typed all the way down.
export const criteria = (badge: S["Badge"]): S["Criteria"] => badge.criteria;
export const repName = (rep: S["Rep"]): string => rep.name;
export const active = (badge: S["Badge"]): boolean => badge.active;
export const firstCode = (rejected: S["Rejected"]): string | undefined => rejected.errors[0]?.code;
export const nextPage = (page: S["PaginatedAwardList"]): string | null => page.next;
export const zone = (settings: S["TenantSettings"]): string => settings.timezone;
