"""Plan comments: numbered parts edited in place; parts left over from a longer plan are deleted."""

from bot.app.publish.plan_comments import MAX_PARTS, publish_plan
from bot.github.api import Comment

BOT = "gitops-policy-bot[bot]"


class FakeComments:
    """Just the comment calls of RepoApi, recording what the publisher did."""

    def __init__(self, comments: list[Comment]):
        self.comments = {c.id: c for c in comments}
        self.calls: list[tuple[str, int]] = []
        self.next_id = 100

    def issue_comments(self, number: int) -> list[Comment]:
        return sorted(self.comments.values(), key=lambda c: c.id)

    def create_issue_comment(self, number: int, body: str) -> int:
        self.next_id += 1
        self.comments[self.next_id] = Comment(self.next_id, body, BOT, "Bot")
        self.calls.append(("create", self.next_id))
        return self.next_id

    def edit_issue_comment(self, comment_id: int, body: str) -> None:
        old = self.comments[comment_id]
        self.comments[comment_id] = Comment(comment_id, body, old.author, old.author_type)
        self.calls.append(("edit", comment_id))

    def delete_issue_comment(self, comment_id: int) -> None:
        del self.comments[comment_id]
        self.calls.append(("delete", comment_id))


def part(n: int, text: str) -> str:
    return f"<!-- gitops-policy-bot:plan part={n} -->\n{text}"


def test_later_shorter_plan_edits_in_place_and_deletes_stale_parts():
    api = FakeComments(
        [
            Comment(1, part(1, "old a"), BOT, "Bot"),
            Comment(2, "a human's comment " + part(2, "quoted"), "alice", "User"),
            Comment(3, part(2, "old b"), BOT, "Bot"),
            Comment(4, part(3, "old c"), BOT, "Bot"),
            Comment(5, part(3, "forged by someone else"), "mallory", "User"),
        ]
    )
    ids = publish_plan(api, 7, [part(1, "new a"), part(2, "old b")], bot_login=BOT)
    assert ids == [1, 3]
    assert api.calls == [("edit", 1), ("delete", 4)]  # part 2 unchanged: no call
    assert sorted(api.comments) == [1, 2, 3, 5]


def test_longer_plan_creates_missing_parts_up_to_the_cap():
    api = FakeComments([Comment(1, part(1, "a"), BOT, "Bot")])
    bodies = [part(i, f"p{i}") for i in range(1, MAX_PARTS + 3)]
    ids = publish_plan(api, 7, bodies, bot_login=BOT)
    assert len(ids) == MAX_PARTS and ids[0] == 1
    assert [c for c, _ in api.calls] == ["edit"] + ["create"] * (MAX_PARTS - 1)
