"""Drive a Plexus endpoint with `langchain-openai` as its users configure it, printing JSON."""
import json
import math
import sys

from langchain_openai import ChatOpenAI, OpenAIEmbeddings

base_url, chat_model, embedding_model = sys.argv[1:4]
out = {}

# Embeddings with LangChain's defaults: texts are split with tiktoken and sent as
# cl100k_base token ids.
embeddings = OpenAIEmbeddings(model=embedding_model, base_url=base_url, api_key="unused", max_retries=0)
a, b = embeddings.embed_documents(["A man is eating food.", "A man is eating a piece of bread."])
q = embeddings.embed_query("A man is eating food.")
norm = lambda v: math.sqrt(sum(x * x for x in v))
out["embeddings"] = {
    "dims": len(a),
    "cosine": sum(x * y for x, y in zip(a, b)) / (norm(a) * norm(b)),
    "query_equals_document": max(abs(x - y) for x, y in zip(a, q)),
}

chat = ChatOpenAI(model=chat_model, base_url=base_url, api_key="unused", temperature=0, max_tokens=24, max_retries=0)
reply = chat.invoke("What is the capital of France? Answer in one sentence.")
out["invoke"] = reply.content
out["stream"] = "".join(chunk.content for chunk in chat.stream("What is the capital of France? Answer in one sentence."))
with_logprobs = chat.bind(logprobs=True).invoke("What is the capital of France? Answer in one sentence.")
out["logprobs"] = [t["logprob"] for t in with_logprobs.response_metadata["logprobs"]["content"]]
print(json.dumps(out))
