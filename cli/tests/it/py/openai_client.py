"""Drive a Plexus provider with the official `openai` package and print what it saw as JSON."""
import json
import sys

import openai

base_url = sys.argv[1]
client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=120)
out = {"openai_version": openai.__version__}

out["models"] = [m.id for m in client.models.list()]
chat_model = out["models"][0]
messages = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]

answers = []
for _ in range(2):
    r = client.chat.completions.create(model=chat_model, messages=messages, temperature=0, max_tokens=24, seed=7)
    answers.append({
        "content": r.choices[0].message.content,
        "finish_reason": r.choices[0].finish_reason,
        "usage": r.usage.model_dump(),
        "fingerprint": r.system_fingerprint,
    })
out["chat"] = answers

stream = client.chat.completions.create(
    model=chat_model, messages=messages, temperature=0, max_tokens=24, seed=7,
    stream=True, stream_options={"include_usage": True},
)
pieces, finish, usage = [], None, None
for chunk in stream:
    if chunk.choices:
        delta = chunk.choices[0].delta
        if delta.content:
            pieces.append(delta.content)
        if chunk.choices[0].finish_reason:
            finish = chunk.choices[0].finish_reason
    if chunk.usage is not None:
        usage = chunk.usage.model_dump()
out["stream"] = {"content": "".join(pieces), "chunks": len(pieces), "finish_reason": finish, "usage": usage}

r = client.completions.create(model=chat_model, prompt="The sky is", temperature=0, max_tokens=8)
out["completion"] = {"text": r.choices[0].text, "usage": r.usage.model_dump()}

# Log-probabilities, whole and streamed, as evaluators read them.
r = client.chat.completions.create(
    model=chat_model, messages=messages, temperature=0, max_tokens=12, logprobs=True, top_logprobs=3,
)
out["logprobs"] = {
    "content": r.choices[0].message.content,
    "completion_tokens": r.usage.completion_tokens,
    "tokens": [
        {"token": t.token, "logprob": t.logprob, "bytes": t.bytes,
         "top": [{"token": a.token, "logprob": a.logprob} for a in t.top_logprobs]}
        for t in r.choices[0].logprobs.content
    ],
}
stream = client.chat.completions.create(
    model=chat_model, messages=messages, temperature=0, max_tokens=12, logprobs=True, stream=True,
)
streamed = []
for chunk in stream:
    if chunk.choices and chunk.choices[0].logprobs and chunk.choices[0].logprobs.content:
        streamed.extend(t.logprob for t in chunk.choices[0].logprobs.content)
out["streamed_logprobs"] = streamed
r = client.completions.create(model=chat_model, prompt="The sky is", temperature=0, max_tokens=8, logprobs=2)
out["completion_logprobs"] = {
    "text": r.choices[0].text,
    "tokens": r.choices[0].logprobs.tokens,
    "token_logprobs": r.choices[0].logprobs.token_logprobs,
    "top": r.choices[0].logprobs.top_logprobs,
    "text_offset": r.choices[0].logprobs.text_offset,
}

# Penalties change a repetitive greedy answer; the SDK sends them as OpenAI defines them.
repetitive = [{"role": "user", "content": "Write the word cat ten times, separated by spaces."}]
plain = client.chat.completions.create(
    model=chat_model, messages=repetitive, temperature=0, max_tokens=24,
)
r = client.chat.completions.create(
    model=chat_model, messages=repetitive, temperature=0, max_tokens=24,
    frequency_penalty=2.0, presence_penalty=2.0,
)
out["penalised"] = r.choices[0].message.content
out["plain"] = plain.choices[0].message.content

# Several choices, whole and streamed: each its own sampled answer.
r = client.chat.completions.create(
    model=chat_model, messages=messages, temperature=1.0, max_tokens=12, n=3, seed=11,
)
out["choices"] = {
    "indexes": [c.index for c in r.choices],
    "contents": [c.message.content for c in r.choices],
    "completion_tokens": r.usage.completion_tokens,
}
stream = client.chat.completions.create(
    model=chat_model, messages=messages, temperature=1.0, max_tokens=12, n=3, seed=11, stream=True,
)
by_index = {}
finished = {}
for chunk in stream:
    for choice in chunk.choices:
        by_index.setdefault(choice.index, []).append(choice.delta.content or "")
        if choice.finish_reason:
            finished[choice.index] = choice.finish_reason
out["streamed_choices"] = {
    "contents": ["".join(by_index[i]) for i in sorted(by_index)],
    "finished": sorted(finished),
}

if len(out["models"]) > 1:
    sentences = ["A man is eating food.", "A man is eating a piece of bread."]
    e = client.embeddings.create(model=out["models"][1], input=sentences)
    a, b = e.data[0].embedding, e.data[1].embedding
    out["embeddings"] = {
        "dims": len(a),
        "cosine": sum(x * y for x, y in zip(a, b)) / (sum(x * x for x in a) ** 0.5 * sum(y * y for y in b) ** 0.5),
    }

try:
    client.chat.completions.create(model="no-such-model", messages=messages)
    out["unknown_model_error"] = None
except openai.NotFoundError as err:
    out["unknown_model_error"] = {"status": err.status_code, "code": err.code}

print(json.dumps(out))
