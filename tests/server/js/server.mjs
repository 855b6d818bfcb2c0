// Starts `prima serve` on a free port for a node test and makes sure it is killed however the test ends.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const live = new Set();
const killAll = () => { for (const p of live) { try { p.kill("SIGKILL"); } catch {} } };
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => { killAll(); process.exit(130); });

// env: PRIMA_BINARY (the prima executable), PRIMA_FIXTURES_DIR.
export function fixture(name) {
  return `${process.env.PRIMA_FIXTURES_DIR}/models/${name}`;
}

export async function startServer(args, { timeoutMs = 20000 } = {}) {
  const bin = process.env.PRIMA_BINARY;
  if (!bin) throw new Error("PRIMA_BINARY is not set");
  const child = spawn(bin, ["serve", "--host", "127.0.0.1", "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  let log = "";
  child.stderr.on("data", (d) => { log += d; });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("prima serve did not start:\n" + log)), timeoutMs);
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`prima serve exited (${code}):\n${log}`)); });
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = line.match(/listening on (http:\/\/[\d.]+:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
  });
  for (const deadline = Date.now() + timeoutMs; ;) {
    try { if ((await fetch(url + "/health")).status === 200) break; } catch {}
    if (Date.now() > deadline) throw new Error("prima serve never became ready:\n" + log);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url,
    log: () => log,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      const done = new Promise((r) => child.once("exit", (code) => { live.delete(child); r(code); }));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 10000);
      const code = await done;
      clearTimeout(t);
      return code;
    },
  };
}

// Starts a `prima worker` on a free loopback port; resolves to { address, stop }.
export async function startWorker(model, name, { timeoutMs = 20000 } = {}) {
  const child = spawn(process.env.PRIMA_BINARY, ["worker", "-m", model, "--listen", "127.0.0.1:0", "--name", name, "-t", "1"],
    { stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  let log = "";
  const address = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${name} did not start:\n${log}`)), timeoutMs);
    const onData = (d) => {
      log += d;
      const m = log.match(/listening on (127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`worker ${name} exited (${code}):\n${log}`)); });
  });
  return {
    address,
    stop: () => { child.removeAllListeners("exit"); child.kill("SIGKILL"); live.delete(child); },
  };
}
