// llama.cpp's speed on a GGUF file, measured the way `prima bench` measures prima's: pp (a prompt of P tokens in
// one batch, from an empty cache) and tg (G tokens decoded one per call from an empty cache, without sampling, as
// llama-bench does), R repetitions.
// llama.cpp comes as the prebuilt libraries of the npm package node-llama-cpp (see README.md); this file only
// drives them.
//
//   node llamacpp_bench.mjs MODEL [-p 512] [-n 64] [-r 3] [-t 2]
//
// Prints one JSON object: {"variant_info": ..., "pp": [t/s per repetition], "tg": [...]}.
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

function parse(argv) {
  const o = {p: 512, n: 64, r: 3, t: 2};
  const rest = [];
  for (let i = 0; i < argv.length; ++i) {
    const k = argv[i].replace(/^-+/, "");
    if (argv[i].startsWith("-") && k in o) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0 || v > 65536) throw new Error(`llamacpp_bench: bad value for ${argv[i - 1]}`);
      o[k] = v;
    } else {
      rest.push(argv[i]);
    }
  }
  if (rest.length !== 1) throw new Error("usage: node llamacpp_bench.mjs MODEL [-p 512] [-n 64] [-r 3] [-t 2]");
  if (o.r < 1 || o.t < 1) throw new Error("llamacpp_bench: -r and -t must be at least 1");
  o.model = rest[0];
  return o;
}

let o;
try {
  o = parse(process.argv.slice(2));
} catch (e) {
  console.error(e.message);
  process.exit(2);
}
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath: o.model, useMmap: true});
const ctx = await model.createContext({contextSize: Math.max(o.p, o.n) + 64, batchSize: Math.max(o.p, 1),
                                       threads: o.t, sequences: 1});
const seq = ctx.getSequence();
// The prompt: a sentence tokenized by the model and repeated to P tokens (the speed does not depend on the ids).
const sentence =
    model.tokenize("Once upon a time, in a house full of small computers, a large model answered a question. ");
if (sentence.length === 0) throw new Error("llamacpp_bench: the model's tokenizer gave no tokens");
const prompt = Array.from({length: o.p}, (_, i) => sentence[i % sentence.length]);
const out = {variant_info: llama.systemInfo, pp: [], tg: []};
for (let r = 0; r < o.r; ++r) {
  if (o.p > 0) {
    await seq.clearHistory();
    const t0 = performance.now();
    await seq.evaluateWithoutGeneratingNewTokens(prompt);
    out.pp.push(o.p / ((performance.now() - t0) / 1000));
  }
  if (o.n > 0) {
    await seq.clearHistory();
    const t0 = performance.now();
    // One token per decode, no sampling: llama-bench's tg. (Through node-llama-cpp's sampler each token of a
    // Llama-3-8B took ~25 ms more.)
    for (let i = 0; i < o.n; ++i) await seq.evaluateWithoutGeneratingNewTokens([sentence[i % sentence.length]]);
    out.tg.push(o.n / ((performance.now() - t0) / 1000));
  }
}
await ctx.dispose();
await model.dispose();
console.log(JSON.stringify(out));
