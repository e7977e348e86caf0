// The editor contract (static/js/workspace/contract.js) on the three real editors, and what it refuses.
import { test } from "node:test";
import assert from "node:assert/strict";

import { contractOf, contractProblems, mountedProblems } from "../../../static/js/workspace/contract.js";
import catheter from "../../../static/js/editors/catheter.js";
import articles from "../../../static/js/editors/articles.js";
import omr from "../../../static/js/editors/omr.js";

test("each shipped editor meets the contract of what it draws", () => {
  for (const editor of [catheter, articles, omr]) assert.deepEqual(contractProblems(editor), [], editor.kind);
  assert.equal(contractOf(catheter).draws, "shapes");
  assert.equal(contractOf(articles).draws, "answer");
  assert.equal(contractOf(omr).draws, "view");
});

test("an editor that draws its own view gives no shape members at all: nothing stubbed", () => {
  for (const name of ["shapes", "put", "remove", "relabel", "proposal", "diffShape", "rasters"]) {
    assert.equal(omr[name], undefined, name);
    assert.equal(contractOf(omr)[name], null, name);
  }
  // the articles editor draws its own answer: cuts are not put or relabelled as shapes
  assert.equal(articles.put, undefined);
  assert.equal(articles.relabel, undefined);
  assert.equal(contractOf(articles).put, null);
  assert.equal(typeof contractOf(articles).remove, "function");
});

test("a shapes editor without put, or an unknown kind of drawing, is refused with what is missing", () => {
  const { put, ...noPut } = catheter;
  assert.equal(typeof put, "function");
  assert.deepEqual(contractProblems(noPut), ["catheter (draws shapes) lacks put"]);
  assert.throws(() => contractOf(noPut), /lacks put/);
  assert.match(contractProblems({ ...omr, draws: "everything" })[0], /none of shapes, answer, view/);
  assert.deepEqual(contractProblems({ ...omr, check: "no" }), ["omr: check is not a function"]);
});

test("an editor drawing its own answer must give draw from mount", () => {
  const answer = contractOf(articles);
  assert.deepEqual(mountedProblems(answer, { load() {}, render() {} }), ["mount(ws) gave no draw"]);
  assert.deepEqual(mountedProblems(answer, { load() {}, render() {}, draw() {} }), []);
  assert.deepEqual(mountedProblems(contractOf(omr), { load() {} }), ["mount(ws) gave no render"]);
});
