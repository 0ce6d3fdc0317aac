"""The app's pages (Streamlit); each reads and shows, the decisions are in the modules of assistant/app."""
