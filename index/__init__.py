"""Index: the French lexical index, the dense FAISS index and their fusion."""
