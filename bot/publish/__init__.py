"""Publishers: a decided `bot.pipeline.Verdict` written to GitHub (check run, comment, review, plan)."""
