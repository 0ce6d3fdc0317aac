"""The Streamlit app's logic that is not UI: rendering to safe markdown, feedback, admin, documents, figures."""
