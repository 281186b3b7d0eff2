"""Action codes recorded by the review workflow."""

from assay.audit.registry import register

register("review.brand_kit.updated", "Brand kit updated",
         "An owner changed the voice, banned terms, disclaimers or image minimums.")
register("review.facts.updated", "Approved facts updated", "An owner changed the fact library.")
register("review.policy.updated", "Review policy updated",
         "An owner changed the review stages or the blocking severities.")
register("review.checks.completed", "Checks completed",
         "The automated checks ran on an asset version.")
register("review.asset.submitted", "Submitted for review", "An asset version entered review.")
register("review.asset.superseded", "Review superseded",
         "A new version of the asset restarted review.")
register("review.decision.approved", "Approved at a stage", "A reviewer approved a stage.")
register("review.decision.rejected", "Rejected", "A reviewer rejected the asset.")
register("review.decision.changes_requested", "Changes requested",
         "A reviewer sent the asset back to its creator.")
register("review.check.overridden", "Check warning overridden",
         "A reviewer approved despite a non-blocking check result, giving a reason.")
register("review.stage.advanced", "Stage passed", "A stage got its approvals; the next began.")
register("review.asset.approved", "Asset approved", "The last stage approved the asset.")
register("review.comment.added", "Comment added", "A comment was added to a review.")
register("review.stage.reminded", "Reviewers reminded", "A stage was overdue; reviewers were "
         "reminded by e-mail.")
register("review.stage.escalated", "Escalated to owners", "A stage stayed overdue; the "
         "project owners were told.")
register("studio.asset.revised", "Asset edited", "A new version of an asset was saved.")
register("review.promotion.requested", "Promotion requested",
         "Someone asked for a prompt version to become a protected label; its golden-set "
         "run started.")
register("review.promotion.approved", "Promotion approved",
         "A reviewer other than the version's author approved; the protected label moved.")
register("review.promotion.rejected", "Promotion rejected",
         "A reviewer rejected a promotion; the protected label stayed where it was.")
register("review.style.created", "Brand style added",
         "An owner added a named image style to the brand kit.")
register("review.style.updated", "Brand style changed",
         "An owner changed a brand style's prompt additions, size, steps or reference image.")
register("review.style.deleted", "Brand style removed",
         "An owner removed a brand style; jobs made with it keep its name.")
