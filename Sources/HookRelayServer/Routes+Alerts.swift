import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayStore
import Hummingbird

extension Routes {
    /// A team's alert destinations (HookRelayAdmin's Alerts.swift): `GET alerts` (the config's
    /// and the team's), `PUT alerts` (replaces the team's), `POST alerts/test`.
    static func alertRoutes(
        _ group: RouterGroup<ServeRequestContext>, state: ServerState, team: @escaping @Sendable (ServeRequestContext) async throws -> String
    ) {
        let admin = state.admin
        group.get("alerts") { _, context in
            let team = try await team(context)
            try require(context, team, may: .read)
            return json(["alerts": try await admin.alertDestinations(team: team).map(AlertView.init)])
        }
        group.put("alerts") { request, context in
            let team = try await team(context)
            try require(context, team, may: .manage)
            let destinations = try AlertDestination.list(try await decodeObject(request)["alerts"])
            try await admin.setTeamAlerts(team, destinations)
            try await state.reloadWebhooks()
            try await audit(state, context, team, "team", team, "alerts_set", ["alerts": "\(destinations.count)"])
            return json(["alerts": try await admin.alertDestinations(team: team).map(AlertView.init)])
        }
        group.post("alerts/test") { _, context in
            let team = try await team(context)
            try require(context, team, may: .manage)
            let results = try await admin.testAlerts(team: team)
            try await audit(state, context, team, "team", team, "alerts_tested", ["destinations": "\(results.count)"])
            return json(["results": results.map { AlertTestView(destination: AlertView($0.destination), report: $0.report) }])
        }
    }
}
