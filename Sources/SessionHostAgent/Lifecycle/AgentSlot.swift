/// One session host of the agent: where it lives (`SlotPlan`) and its state (`HostAgent`).
public struct AgentSlot: Sendable {
    public let plan: SlotPlan
    public let agent: HostAgent

    public init(plan: SlotPlan, agent: HostAgent) {
        self.plan = plan
        self.agent = agent
    }
}
