"""The peer of benches/llama.rs: the same prompt through llama-cpp-python.

Usage: python peer_llama_cpp_python.py MODEL THREADS MAX_TOKENS RUNS < rendered_prompt
Prints one JSON line: prompt_tokens, generated, prompt_tps, gen_tps (best run).
"""
import json
import sys
import time

import llama_cpp

model, threads, max_tokens, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
prompt = sys.stdin.read()
llm = llama_cpp.Llama(
    model_path=model, n_ctx=1024, n_batch=512, n_ubatch=512,
    n_threads=threads, n_threads_batch=threads, verbose=False,
)
tokens = llm.tokenize(prompt.encode(), add_bos=False, special=True)
best = None
for _ in range(runs):
    llm.reset()
    start = time.perf_counter()
    llm.eval(tokens)
    prompt_s = time.perf_counter() - start
    generated = 0
    start = time.perf_counter()
    for _ in range(max_tokens):
        tok = llm.sample(top_k=1, temp=0.0)
        if tok == llm.token_eos():
            break
        generated += 1
        llm.eval([tok])
    gen_s = time.perf_counter() - start
    row = {
        "prompt_tokens": len(tokens),
        "generated": generated,
        "prompt_tps": len(tokens) / prompt_s,
        "gen_tps": generated / gen_s,
    }
    if best is None or row["gen_tps"] > best["gen_tps"]:
        best = row
print(json.dumps(best))
