"""Publishers: a decided `bot.app.pipeline.Verdict` written to GitHub (check run, comment, review, plan)."""
