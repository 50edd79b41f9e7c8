// The pipeline identities of infra/identities.yml: user-assigned managed
// identities that trust only their federated subjects, and their role
// assignments. Deploy once, with your own login (Owner or User Access
// Administrator on the subscription), through
// scripts/setup_azure_federation.sh; re-deploy after editing identities.yml.
targetScope = 'subscription'

@description('Subject prefixes of the GitHub repository whose workflows log in: repo:<owner>/<repo> and, for repositories with immutable subject claims, repo:<owner>@<owner id>/<repo>@<repo id>. Empty: no GitHub trust.')
param githubSubjectPrefixes array = []

@description('Per Azure DevOps service connection (the azure_devops name of an identity in identities.yml), the exact issuer and subject the connection shows (authorization.parameters.workloadIdentityFederationIssuer and workloadIdentityFederationSubject): {"<connection>": {"issuer": "...", "subject": "..."}}. New connections use the Microsoft Entra issuer and an opaque subject, older ones https://vstoken.dev.azure.com/<organization id> and sc://<organization>/<project>/<connection>. Empty: no Azure DevOps trust.')
param azureDevOpsSubjects object = {}

@description('The Terraform state account (infra/terraform/state.backend.hcl, written by scripts/setup_azure_federation.sh when it creates the account), for the roles identities.yml gives on the state container. Empty without Terraform.')
param stateStorageAccount string = ''

var config = loadYamlContent('../identities.yml')
var customRoles = config.?custom_roles ?? {}
var state = config.?state ?? {
  resource_group: ''
  container: ''
}

resource identityGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: config.identity_resource_group
  location: config.location
}

resource environmentGroups 'Microsoft.Resources/resourceGroups@2024-03-01' = [for group in items(config.resource_groups): {
  name: group.value
  location: config.location
}]

resource roleDefinitions 'Microsoft.Authorization/roleDefinitions@2022-04-01' = [for role in items(customRoles): {
  name: guid(subscription().id, role.value.name)
  properties: {
    // A custom role's name is unique in the whole tenant: another
    // subscription's set-up of the same project must not collide.
    roleName: '${role.value.name} (${subscription().subscriptionId})'
    description: 'Defined in infra/identities.yml.'
    type: 'CustomRole'
    assignableScopes: [
      subscription().id
    ]
    permissions: [
      {
        actions: role.value.actions
        notActions: []
      }
    ]
  }
}]

module identities 'modules/identity.bicep' = [for identity in items(config.identities): {
  name: 'identity-${identity.key}'
  scope: identityGroup
  params: {
    name: identity.value.name
    location: config.location
    githubSubjectPrefixes: githubSubjectPrefixes
    githubSubject: identity.value.github
    azureDevOpsIssuer: contains(azureDevOpsSubjects, identity.value.azure_devops) ? azureDevOpsSubjects[identity.value.azure_devops].issuer : ''
    azureDevOpsSubject: contains(azureDevOpsSubjects, identity.value.azure_devops) ? azureDevOpsSubjects[identity.value.azure_devops].subject : ''
  }
}]

module roleAssignments 'modules/role-assignment.bicep' = [for (assignment, index) in config.role_assignments: {
  name: 'role-${index}-${assignment.identity}'
  scope: resourceGroup(assignment.scope == 'state_container' ? state.resource_group : config.resource_groups[assignment.?environment ?? ''])
  params: {
    identityName: config.identities[assignment.identity].name
    identityResourceGroup: config.identity_resource_group
    role: assignment.role
    customRoleName: contains(customRoles, assignment.role) ? customRoles[assignment.role].name : ''
    condition: contains(assignment, 'condition') ? config.conditions[assignment.?condition ?? ''] : ''
    stateAccount: assignment.scope == 'state_container' ? stateStorageAccount : ''
    stateContainer: assignment.scope == 'state_container' ? state.container : ''
  }
  dependsOn: [
    identities
    environmentGroups
    roleDefinitions
  ]
}]

output tenantId string = tenant().tenantId
output subscriptionId string = subscription().subscriptionId
