"""CEP assistant: French question answering over the CEP documents, with cited passages."""
